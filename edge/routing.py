"""The route table: which upstream serves a path, and whether it needs a token.

Prefixes match whole path segments, as Gateway API HTTPRoute `PathPrefix` does:
`/api/web` matches `/api/web` and `/api/web/x`, never `/api/webx`. The longest
matching prefix wins; matching is case-sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


class BadPath(ValueError):
    """A request path that could mean something else after decoding."""


@dataclass(frozen=True)
class Route:
    prefix: str
    upstream: str
    auth_required: bool


# Percent-encoded dot, slash and backslash, and any control byte: after one more
# decoding step such a path could climb out of its prefix, so it is refused.
_AMBIGUOUS = re.compile(rb"%(2e|2f|5c|00)|[\x00-\x1f\x7f\\]", re.IGNORECASE)


def validate_path(raw_path: bytes) -> str:
    """The decoded path when it is unambiguous; raise `BadPath` otherwise."""
    if not raw_path.startswith(b"/") or _AMBIGUOUS.search(raw_path):
        raise BadPath("ambiguous characters in path")
    decoded = unquote_to_bytes(raw_path)
    if _AMBIGUOUS.search(decoded):
        raise BadPath("control characters in path")
    if any(segment in (b".", b"..") for segment in decoded.split(b"/")):
        raise BadPath("dot segments in path")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("path is not UTF-8") from None


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        # Longest first, so the first match is the most specific one.
        self._routes = sorted(routes, key=lambda route: len(route.prefix), reverse=True)

    def match(self, path: str) -> Route | None:
        for route in self._routes:
            prefix = route.prefix.rstrip("/")
            if path == prefix or path.startswith(prefix + "/"):
                return route
        return None
