"""The proxy: one request through admission and forwarding, answered and recorded once.

`edge.admission` holds the rules and their order; `edge.forwarding` the upstream
call. This module holds what every proxied request gets whatever happens: its
request id, its answer (the upstream's, or a problem), the edge's own response
headers, its access line, RED metrics and, when traced, its server span.
"""

from __future__ import annotations

import logging
import time

from edge.admission import Admission, Preflight
from edge.client_address import ClientAddressResolver
from edge.edge_config import EdgeConfig
from edge.exchange import ClientGone, Exchange
from edge.forwarding import Forwarder
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.tracing import EdgeServerSpans
from edge.upstream_client import UpstreamError
from service_defaults.metrics import HttpMetrics
from service_defaults.problems import PROBLEM_JSON, render_problem
from service_defaults.request_context import (
    Access,
    log_access,
    request_id_from,
    reset_request_id,
    set_request_id,
)

log = logging.getLogger("frontdoor.edge")
Headers = list[tuple[bytes, bytes]]
_PROBLEM_TYPE = (b"content-type", PROBLEM_JSON.encode())


class Proxy:
    def __init__(
        self,
        config: EdgeConfig,
        admission: Admission,
        forwarder: Forwarder,
        *,
        client_addresses: ClientAddressResolver,
        http_metrics: HttpMetrics,
        response_headers: Headers,
        server_spans: EdgeServerSpans | None = None,
    ) -> None:
        # Replaced whole on reload (see `EdgeConfig`); read once per request.
        self.config = config
        self.admission = admission
        self.forwarder = forwarder
        self._client_addresses = client_addresses
        self._http_metrics = http_metrics
        # On every answer (HSTS, nosniff), after the request id; the protocol's own
        # refusals of unparsable requests carry them too.
        self.response_headers = response_headers
        self._server_spans = server_spans

    async def handle(self, exchange: Exchange) -> None:
        started = time.monotonic()
        wall_clock = time.time()
        config = self.config
        fields = RequestFields(exchange.headers)
        exchange.request_id = request_id = request_id_from(fields.first(b"x-request-id"))
        token = set_request_id(request_id)
        notes: dict[str, str | int] | None = None
        span = span_token = None
        if self._server_spans is not None:
            notes = {}
            span, span_token = self._server_spans.start(exchange, fields)
        answer_headers = [(b"x-request-id", request_id.encode("ascii")), *self.response_headers]
        try:
            await self._answer(exchange, fields, config, answer_headers, started, notes)
        except ClientGone:
            pass  # nobody to answer: the access line records nginx's 499
        except UpstreamError:
            # The upstream's answer broke off after it started (forwarding logged it):
            # cutting the connection tells the client it is incomplete.
            exchange.abort()
        except Exception:
            log.exception("proxy failed on %s %r", exchange.method, exchange.raw_path)
            if exchange.started:
                exchange.abort()  # half an answer is out: only cutting the connection is left
            else:
                detail = "The gateway could not handle this request."
                self._problem(exchange, 500, detail, answer_headers)
        finally:
            duration_s = time.monotonic() - started
            status = exchange.status or 499
            route = exchange.route or "unmatched"
            self._http_metrics.record(route, exchange.method, status, duration_s)
            log_access(
                Access(
                    method=exchange.method,
                    route=route,
                    # As sent, still percent-encoded: the decoded path could hold a newline.
                    path=exchange.raw_path.decode("ascii", "backslashreplace"),
                    status=status,
                    duration_ms=int(duration_s * 1_000_000) / 1000,
                    start=wall_clock,
                    client=exchange.client,
                )
            )
            if span is not None and notes is not None:
                EdgeServerSpans.finish(span, span_token, exchange, notes)
            reset_request_id(token)

    async def _answer(
        self,
        exchange: Exchange,
        fields: RequestFields,
        config: EdgeConfig,
        answer_headers: Headers,
        started: float,
        notes: dict[str, str | int] | None,
    ) -> None:
        try:
            client, forwarded_for = self._client_addresses.resolve(
                exchange.peer, fields.every(b"x-forwarded-for")
            )
            exchange.client = client
            admitted = await self.admission.admit(exchange, fields, config, client, notes)
            if isinstance(admitted, Preflight):
                exchange.respond(204, admitted.headers + answer_headers, b"")
                return
            try:
                await self.forwarder.forward(
                    exchange,
                    fields,
                    admitted.route,
                    answer_headers=admitted.response_headers + answer_headers,
                    forwarded_for=forwarded_for,
                    started=started,
                )
            except Refused as refusal:
                refusal.headers += admitted.response_headers
                raise
        except Refused as refusal:
            self._problem(
                exchange, refusal.status, refusal.detail, refusal.headers + answer_headers
            )

    @staticmethod
    def _problem(exchange: Exchange, status: int, detail: str, headers: Headers) -> None:
        # The path as the client sent it, still percent-encoded.
        body = render_problem(status, detail, instance=exchange.raw_path.decode("latin-1"))
        exchange.respond(status, [_PROBLEM_TYPE, *headers], body)
