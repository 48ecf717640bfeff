"""Routes and the route table: which route serves a path, following Gateway API HTTPRoute matching.

Prefixes match whole path segments (`/api/web` matches `/api/web` and
`/api/web/x`, never `/api/webx`); an Exact match beats any prefix; the longest
prefix wins; matching is case-sensitive. Paths are checked before matching so
that no decoding step further down can turn them into something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal
from urllib.parse import unquote_to_bytes

import msgspec

from edge.cors import CorsPolicy
from edge.rate_limits import RatePolicy

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
MatchType = Literal["Exact", "PathPrefix"]


class BadPath(ValueError):
    """A request path that could mean something else after decoding."""


class PathMatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(pattern=r"^/")]
    # Gateway API HTTPRoute names: Exact beats PathPrefix; the longest prefix wins.
    type: MatchType = "PathPrefix"


class RouteBase(msgspec.Struct, frozen=True, kw_only=True):
    """The fields a route serves exactly as the file writes them."""

    name: Name
    audiences: frozenset[str] = frozenset({"frontdoor"})
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    max_body_bytes: Annotated[int, msgspec.Meta(ge=0)] = 1024 * 1024
    # Replaces the matched prefix (or the whole path of an Exact match).
    rewrite_prefix: Annotated[str, msgspec.Meta(pattern=r"^/")] | None = None


class RouteSpec(RouteBase, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry of the route file's `routes`, as written: it names what the edge resolves."""

    path: PathMatch
    upstream: str  # a name in EDGE_UPSTREAMS
    methods: frozenset[HttpMethod] = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
    auth: Literal["required", "none"] = "required"
    rate_limit: str | None = None  # a name in the file's rate_limits
    cors: str | None = None  # a name in the file's cors


class Route(RouteBase, frozen=True, kw_only=True):
    """A route as the edge serves it: every name resolved, every derived value computed once.

    A field named as in `RouteSpec` holds what the spec's value resolves to:
    `upstream` is the base URL the upstream's name stands for, `rate_limit` and
    `cors` are the policies named, `methods` has HEAD wherever GET is allowed.
    """

    path: str
    match: MatchType
    upstream: str  # base URL, no trailing slash
    methods: frozenset[str]
    auth_required: bool
    rate_limit: RatePolicy | None
    cors: CorsPolicy | None
    allow_header: bytes  # the Allow header of a 405 answer

    @classmethod
    def from_spec(
        cls,
        spec: RouteSpec,
        *,
        upstream: str,
        rate_limit: RatePolicy | None = None,
        cors: CorsPolicy | None = None,
    ) -> Route:
        """The served route, given the upstream base URL and the policies that `spec` names."""
        # HEAD is GET without the body: allowing one allows the other.
        head = {"HEAD"} if "GET" in spec.methods else set()
        methods: frozenset[str] = spec.methods | head
        return cls(
            **{field.name: getattr(spec, field.name) for field in _BASE_FIELDS},
            path=spec.path.value,
            match=spec.path.type,
            upstream=upstream.rstrip("/"),
            methods=methods,
            auth_required=spec.auth == "required",
            rate_limit=rate_limit,
            cors=cors,
            allow_header=", ".join(sorted(methods)).encode(),
        )

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


_BASE_FIELDS = msgspec.structs.fields(RouteBase)


# Percent-encoded dot, slash, backslash and NUL, raw backslashes and control
# bytes: after one more decoding step such a path could climb out of its prefix.
_AMBIGUOUS = re.compile(rb"%(2e|2f|5c|00)|[\x00-\x1f\x7f\\]", re.IGNORECASE)


# What most paths are made of: no percent, no backslash, no control byte, nothing to
# decode. Deleting these bytes from such a path leaves nothing, which is cheaper to
# learn than a regex search.
_PLAIN = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"


def validate_path(raw_path: bytes) -> str:
    """The decoded path when it is unambiguous; raise `BadPath` otherwise."""
    if raw_path.startswith(b"/") and not raw_path.translate(None, _PLAIN):
        # find, not `in`: a bytes needle costs `in` a TypeError (see `edge.headers._UNDERSCORE`).
        if raw_path.find(b"/.") >= 0 and any(s in (b".", b"..") for s in raw_path.split(b"/")):
            raise BadPath("dot segments")
        return raw_path.decode("ascii")
    if not raw_path.startswith(b"/") or _AMBIGUOUS.search(raw_path):
        raise BadPath("encoded dots, slashes or control characters")
    # Most paths have nothing encoded: then there is nothing to decode or check twice.
    decoded = unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path
    if decoded is not raw_path and _AMBIGUOUS.search(decoded):
        raise BadPath("control characters")
    # A dot segment follows a slash: paths without "/." need no split.
    if b"/." in decoded and any(segment in (b".", b"..") for segment in decoded.split(b"/")):
        raise BadPath("dot segments")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("not UTF-8") from None


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        routes = list(routes)
        exact = [route for route in routes if route.match == "Exact"]
        prefixes = sorted(
            (route for route in routes if route.match == "PathPrefix"),
            key=lambda route: len(route.path.rstrip("/")),
            reverse=True,
        )
        # Exact first, then the longest prefix: the first match is the most specific.
        self.routes = [*exact, *prefixes]
        # The same order, laid out for `match`, which runs on every request: one
        # dict lookup for the Exact paths, then each prefix with its segment
        # boundary joined once, and the root prefix (matching all) last.
        self._exact: dict[str, Route] = {}
        for route in exact:
            self._exact.setdefault(route.path, route)
        self._prefixes = [
            (prefix, prefix + "/", route)
            for route in prefixes
            if (prefix := route.path.rstrip("/"))
        ]
        self._root = next((route for route in prefixes if route.path.rstrip("/") == ""), None)

    def match(self, path: str) -> Route | None:
        route = self._exact.get(path)
        if route is not None:
            return route
        for prefix, below, route in self._prefixes:
            if path.startswith(below) or path == prefix:
                return route
        return self._root
