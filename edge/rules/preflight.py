"""Rule: a CORS preflight is answered at the edge, a 204 or a 403, and never forwarded."""

from __future__ import annotations

from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route

Headers = list[tuple[bytes, bytes]]


def is_preflight(method: str, fields: RequestFields) -> bool:
    return method == "OPTIONS" and fields.first(b"access-control-request-method") is not None


def preflight_answer(route: Route, fields: RequestFields) -> Headers:
    """The 204's headers when the route's policy allows this cross-origin request."""
    origin = (fields.first(b"origin") or b"").decode("latin-1")
    method = (fields.first(b"access-control-request-method") or b"").decode("latin-1")
    asked = (fields.first(b"access-control-request-headers") or b"").decode("latin-1")
    allowed = route.cors.preflight(origin, method, asked) if route.cors and origin else None
    if allowed is None:
        raise Refused(403, "This cross-origin request is not allowed.", [(b"vary", b"Origin")])
    return allowed


def cors_headers(route: Route, fields: RequestFields) -> Headers:
    """What an actual cross-origin answer carries, refusals included: a browser shows
    the page a 401 or 429 it can read, not an opaque network error."""
    origin = fields.first(b"origin")
    if origin is None or route.cors is None:
        return []
    return route.cors.response_headers(origin.decode("latin-1"))
