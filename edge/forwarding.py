"""Forwarding: one admitted request to its upstream, and the answer streamed back.

The upstream hears the path and query byte for byte (after the route's rewrite),
the headers `HeaderPolicy` lets through plus the ones the edge writes itself, and
how long the edge will still wait for it. An answer that gives its length, up to
`BUFFERED_ANSWER`, is read whole and written in one piece, whenever its body comes;
of any other answer nothing is held longer than one chunk: a slow client slows the
upstream read, not the edge's memory.
"""

from __future__ import annotations

import logging
import time

from opentelemetry.trace import Span

from edge.exchange import STATUS_LINES, Exchange
from edge.headers import HeaderPolicy, response_headers
from edge.metrics import EdgeMetrics
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route
from edge.rules.body_size import request_body
from edge.tracing import UpstreamCallSpans
from edge.upstream_client import (
    UpstreamClient,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

log = logging.getLogger("frontdoor.edge")
Headers = list[tuple[bytes, bytes]]
# An answer with a length up to this is read whole before the client gets any of
# it, as `edge.upstream_client` joins a small request body to its head. Below the
# upstream connection's READ_HIGH_WATER, so that reading never pauses while it waits.
BUFFERED_ANSWER = 64 * 1024


class Forwarder:
    def __init__(
        self,
        client: UpstreamClient,
        headers: HeaderPolicy,
        metrics: EdgeMetrics,
        call_spans: UpstreamCallSpans | None = None,
    ) -> None:
        self.client = client
        self._headers = headers
        self._metrics = metrics
        # None when untraced: then no span, and no trace context sent on.
        self._call_spans = call_spans

    async def forward(
        self,
        exchange: Exchange,
        fields: RequestFields,
        route: Route,
        *,
        answer_headers: Headers,
        forwarded_for: str,
        started: float,
    ) -> None:
        """Answer `exchange` with the upstream's answer, `answer_headers` added.

        Raise `Refused` (502, 504) when the upstream failed before the client heard
        anything; once an answer has started, a failure can only cut the connection
        (`UpstreamError` propagates).
        """
        body = await request_body(exchange, route, fields)
        remaining_s = route.timeout_s - (time.monotonic() - started)
        if remaining_s <= 0:
            # A slow upload spent the route's whole time: no upstream call could finish.
            self._metrics.count_upstream_error(route.name, "timeout")
            raise Refused(504, "The request took longer than this route allows.")
        target = route.upstream_path(exchange.raw_path)
        if exchange.query:
            target += b"?" + exchange.query
        outbound = self._headers.outbound(
            exchange.headers,
            fields,
            forwarded_for=forwarded_for,
            request_id=exchange.request_id,
            # Later hops learn how long the edge will wait, so they can give up in time.
            budget_ms=max(1, int(remaining_s * 1000)),
            content_length=(
                len(body)
                if isinstance(body, bytes)
                else (None if body is None else int(fields.first(b"content-length") or 0))
            ),
        )
        span = None
        if self._call_spans is not None:
            span, trace_context = self._call_spans.start(exchange.method, route.upstream, target)
            outbound += trace_context
        try:
            upstream = await self.client.request(
                route.upstream, exchange.method, target, outbound, body, timeout_s=remaining_s
            )
        except UpstreamError as exc:
            raise self._failed(route, span, exc) from None
        if upstream.status not in STATUS_LINES:
            upstream.release()
            error = UpstreamUnavailable(f"status {upstream.status}")
            raise self._failed(route, span, error, "The upstream service sent an invalid answer.")
        try:
            if span is not None:
                UpstreamCallSpans.answered(span, upstream.status)
            headers, length = response_headers(upstream.headers)
            headers += answer_headers
            has_length = length is not None
            # The common case, a small answer already here whole: one write, no stream.
            whole = upstream.whole_body() if has_length or exchange.method != "HEAD" else None
            if whole is None and length is not None and length <= BUFFERED_ANSWER:
                # Small, but its body lags its head (an upstream that writes them apart):
                # waited for, so that it still goes out in one write, and a failure
                # before its end is still a problem for the client, not a cut connection.
                try:
                    whole = await upstream.read()
                except UpstreamError as exc:
                    # Released, and the span ended, as the `finally` below does.
                    raise self._failed(route, span, exc, end_span=False) from None
            if whole is not None:
                exchange.respond(upstream.status, headers, whole, has_length=has_length)
                return
            exchange.start(
                upstream.status,
                headers,
                # Together with the body when it is here already; at once when it is not.
                hold=upstream.body_ready,
                has_length=has_length,
            )
            async for chunk in upstream.chunks():
                await exchange.write(chunk)
            exchange.end()
        except UpstreamError as exc:
            if span is not None:
                UpstreamCallSpans.failed(span, exc)
            log.warning("route %s: upstream answer cut short: %r", route.name, exc)
            raise
        finally:
            upstream.release()
            if span is not None:
                span.end()

    def _failed(
        self,
        route: Route,
        span: Span | None,
        exc: UpstreamError,
        detail: str = "",
        *,
        end_span: bool = True,
    ) -> Refused:
        """The refusal for an upstream call that failed before the client heard anything,
        counted and logged; the span ends here unless `end_span` says its caller ends it."""
        kind = "timeout" if isinstance(exc, UpstreamTimeout) else "unreachable"
        if span is not None:
            UpstreamCallSpans.failed(span, exc)
            if end_span:
                span.end()
        self._metrics.count_upstream_error(route.name, kind)
        log.warning("route %s: upstream %s: %r", route.name, kind, exc)
        if kind == "timeout":
            return Refused(504, "The upstream service did not answer in time.")
        return Refused(502, detail or "The upstream service is unavailable.")
