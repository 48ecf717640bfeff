"""Admission: the edge's rules, in the one order they run, before any upstream call.

1. head size and field count (431)      `rules.head_limits`
2. transfer coding (501)                `rules.transfer_coding`
3. path (400)                           `rules.request_path`
4. route (404)                          `rules.route_match`
5. CORS preflight, answered here        `rules.preflight`
6. method (405)                         `rules.method`
7. token (400 when sent twice, 401)     `rules.token`
8. rate limit (429, or 503)             `rules.rate_limit`
9. declared body size (413)             `rules.body_size` (a chunked body is measured
                                        while it is read, before forwarding)

Cheap checks of the head come first, so that a hostile request costs no token
verification or limiter call; the token comes before the limit, whose key may be
the token's subject. From the route on, refusals carry the route's CORS headers.
"""

from __future__ import annotations

from typing import NamedTuple

from edge.edge_config import EdgeConfig
from edge.exchange import Exchange
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route
from edge.rules.body_size import declared_length
from edge.rules.head_limits import check_head
from edge.rules.method import check_method
from edge.rules.preflight import cors_headers, is_preflight, preflight_answer
from edge.rules.rate_limit import Notes, RateLimitRule
from edge.rules.request_path import checked_path
from edge.rules.route_match import matched_route
from edge.rules.token import authenticated_subject
from edge.rules.transfer_coding import check_transfer_coding

Headers = list[tuple[bytes, bytes]]


class Admitted(NamedTuple):
    # A tuple, not a frozen dataclass: one is built per request, and a frozen
    # dataclass's __init__ cost a microsecond of it.
    route: Route
    # Added to the upstream's answer: RateLimit and CORS.
    response_headers: Headers


class Preflight(NamedTuple):
    """A CORS preflight the route's policy allows: a 204 with these headers."""

    headers: Headers


class Admission:
    def __init__(
        self, rate_limit: RateLimitRule, *, max_header_fields: int, max_header_bytes: int
    ) -> None:
        self.rate_limit = rate_limit
        self._max_fields = max_header_fields
        self._max_bytes = max_header_bytes

    async def admit(
        self,
        exchange: Exchange,
        fields: RequestFields,
        config: EdgeConfig,
        client: str,
        notes: Notes = None,
    ) -> Admitted | Preflight:
        """Raise `Refused` unless every rule lets the request through.

        Sets `exchange.path` and `exchange.route` as they become known; `notes`,
        when the request is traced, gets the auth and rate-limit outcomes.
        """
        check_head(fields, max_fields=self._max_fields, max_bytes=self._max_bytes)
        check_transfer_coding(fields)
        exchange.path = checked_path(exchange.raw_path)
        route = matched_route(config.routes, exchange.path)
        exchange.route = route.name
        method = exchange.method
        if is_preflight(method, fields):
            return Preflight(preflight_answer(route, fields))
        cors = cors_headers(route, fields)
        try:
            check_method(route, method)
            try:
                subject = await authenticated_subject(config.authenticator, route, fields)
            except Refused:
                if notes is not None:
                    notes["frontdoor.auth.outcome"] = "rejected"
                raise
            if notes is not None:
                notes["frontdoor.auth.outcome"] = (
                    "accepted" if route.auth_required else "not_required"
                )
            quota = (
                await self.rate_limit.check(route.rate_limit, subject, client, notes)
                if route.rate_limit is not None
                else []
            )
            declared_length(route, fields)
        except Refused as refusal:
            refusal.headers += cors
            raise
        return Admitted(route, quota + cors)
