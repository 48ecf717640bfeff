"""What the query API answers: one request's spans out of its trace, and its summary line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from devstack.trace_spans import Span


class RequestSummary(msgspec.Struct, frozen=True):
    request_id: str
    trace_id: str
    name: str  # the root span's: what to show when it has no route or path
    start_unix_nano: int
    duration_ms: float
    method: str
    route: str
    path: str
    status: int | None
    services: list[str]
    error: bool  # some span of the request failed, even if the answer was a success
    span_count: int


class TraceBody(msgspec.Struct, frozen=True):
    trace_id: str
    request_id: str
    spans: list[Span]
    request_ids: list[str]
    dropped_spans: int
    # Older traces that carried the same request id (a client that reuses its ids).
    other_trace_ids: list[str] = []


def by_start(spans: Iterable[Span]) -> list[Span]:
    return sorted(spans, key=lambda span: (span.start_unix_nano, span.end_unix_nano))


def spans_of_request(spans: Sequence[Span], request_id: str) -> list[Span]:
    """The spans under the request's own server spans, by start.

    A trace holds one request unless a client sent the same `traceparent` with
    several requests; then each span belongs to the request of its nearest
    ancestor that names one, and a span whose ancestry has not arrived yet is
    shown with every request, as it cannot be placed.
    """
    if {span.request_id for span in spans} <= {request_id, ""}:
        return by_start(spans)
    parents = {span.span_id: span for span in spans}
    return by_start(span for span in spans if _request_of(span, parents) in (request_id, ""))


def _request_of(span: Span, parents: dict[str, Span]) -> str:
    seen: set[str] = set()
    current: Span | None = span
    while current is not None and current.span_id not in seen:
        if current.request_id:
            return current.request_id
        seen.add(current.span_id)
        current = parents.get(current.parent_span_id)
    return ""


def root_of(spans: Sequence[Span]) -> Span | None:
    """The span whose parent is not in the trace (normally the edge's server span);
    while the trace is still arriving, the earliest of the spans without a parent here."""
    ids = {span.span_id for span in spans}
    orphans = [span for span in spans if span.parent_span_id not in ids]
    if not orphans:  # a cycle, from a broken exporter
        orphans = list(spans)
    rooted = [span for span in orphans if not span.parent_span_id]
    return min(rooted or orphans, key=lambda span: span.start_unix_nano, default=None)


def services_of(spans: Sequence[Span]) -> list[str]:
    """Each service once, in the order it joined the request."""
    return list(dict.fromkeys(span.service for span in by_start(spans)))


def summarize(request_id: str, spans: Sequence[Span]) -> RequestSummary | None:
    root = root_of(spans)
    if root is None:
        return None
    attributes = root.attributes
    status = _first(attributes, "http.response.status_code", "http.status_code")
    return RequestSummary(
        request_id=request_id,
        trace_id=root.trace_id,
        name=root.name,
        start_unix_nano=root.start_unix_nano,
        duration_ms=(root.end_unix_nano - root.start_unix_nano) / 1e6,
        method=str(_first(attributes, "http.request.method", "http.method") or ""),
        # The route label rule of the logs and metrics: the edge's route name first.
        route=str(_first(attributes, "frontdoor.route", "http.route") or ""),
        path=str(_first(attributes, "url.path", "http.target") or ""),
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        services=services_of(spans),
        error=any(span.status == "ERROR" for span in spans),
        span_count=len(spans),
    )


def _first(attributes: dict[str, object], *names: str) -> object:
    for name in names:
        if name in attributes:
            return attributes[name]
    return None
