"""The route table: which route serves a path, following Gateway API HTTPRoute matching.

Prefixes match whole path segments (`/api/web` matches `/api/web` and
`/api/web/x`, never `/api/webx`); an Exact match beats any prefix; the longest
prefix wins; matching is case-sensitive. Paths are checked before matching so
that no decoding step further down can turn them into something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes

from edge.cors import CorsPolicy
from edge.rate_limits import RatePolicy


class BadPath(ValueError):
    """A request path that could mean something else after decoding."""


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    match: Literal["Exact", "PathPrefix"]
    upstream: str
    methods: frozenset[str]
    auth_required: bool
    audiences: frozenset[str]
    timeout_s: float
    max_body_bytes: int
    rewrite_prefix: str | None = None
    rate_limit: RatePolicy | None = None
    cors: CorsPolicy | None = None

    def matches(self, path: str) -> bool:
        if self.match == "Exact":
            return path == self.path
        prefix = self.path.rstrip("/")
        return path == prefix or path.startswith(prefix + "/") or prefix == ""

    def upstream_path(self, raw_path: bytes) -> bytes:
        """The path to send upstream: the raw bytes, with the matched prefix replaced if asked."""
        if self.rewrite_prefix is None:
            return raw_path
        # Encoded slashes are refused earlier, so raw and decoded segments line up.
        matched = len([s for s in self.path.split("/") if s])
        rest = raw_path.split(b"/")[1 + matched :]
        base = self.rewrite_prefix.rstrip("/").encode()
        return (base + b"/" + b"/".join(rest)) if rest else (base or b"/")


# Percent-encoded dot, slash, backslash and NUL, raw backslashes and control
# bytes: after one more decoding step such a path could climb out of its prefix.
_AMBIGUOUS = re.compile(rb"%(2e|2f|5c|00)|[\x00-\x1f\x7f\\]", re.IGNORECASE)


def validate_path(raw_path: bytes) -> str:
    """The decoded path when it is unambiguous; raise `BadPath` otherwise."""
    if not raw_path.startswith(b"/") or _AMBIGUOUS.search(raw_path):
        raise BadPath("encoded dots, slashes or control characters")
    decoded = unquote_to_bytes(raw_path)
    if _AMBIGUOUS.search(decoded):
        raise BadPath("control characters")
    if any(segment in (b".", b"..") for segment in decoded.split(b"/")):
        raise BadPath("dot segments")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("not UTF-8") from None


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        exact = [route for route in routes if route.match == "Exact"]
        prefixes = sorted(
            (route for route in routes if route.match == "PathPrefix"),
            key=lambda route: len(route.path.rstrip("/")),
            reverse=True,
        )
        # Exact first, then the longest prefix: the first match is the most specific.
        self.routes = [*exact, *prefixes]

    def match(self, path: str) -> Route | None:
        return next((route for route in self.routes if route.matches(path)), None)
