"""`TraceBuffer`: the last traces in memory, bounded, and indexed by request id.

Every method runs to completion without awaiting: on the server's one event
loop that makes each of them atomic, so no lock is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from devstack.trace_spans import Span
from devstack.trace_view import RequestSummary, TraceBody, by_start, spans_of_request, summarize

DEFAULT_MAX_TRACES = 500
DEFAULT_MAX_SPANS_PER_TRACE = 2000


@dataclass
class StoredTrace:
    trace_id: str
    spans: dict[str, Span] = field(default_factory=dict)
    # In the order first seen; a dict keeps it and drops repeats.
    request_ids: dict[str, None] = field(default_factory=dict)
    dropped_spans: int = 0


class TraceBuffer:
    def __init__(
        self,
        max_traces: int = DEFAULT_MAX_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS_PER_TRACE,
    ) -> None:
        self.max_traces = max_traces
        self.max_spans_per_trace = max_spans_per_trace
        self._traces: OrderedDict[str, StoredTrace] = OrderedDict()
        # Several traces may carry one request id (a client reusing its ids): oldest first.
        self._by_request: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._traces)

    def add(self, spans: Iterable[Span]) -> int:
        """Store the spans; return how many were dropped because their trace was full.

        A span sent again (an exporter's retry) replaces the copy already held.
        """
        dropped = 0
        for span in spans:
            trace = self._traces.get(span.trace_id) or self._new_trace(span.trace_id)
            if span.span_id not in trace.spans and len(trace.spans) >= self.max_spans_per_trace:
                trace.dropped_spans += 1
                dropped += 1
                if not _makes_room(trace, span):
                    continue
            trace.spans[span.span_id] = span
            request_id = span.request_id
            if request_id and request_id not in trace.request_ids:
                trace.request_ids[request_id] = None
                self._by_request.setdefault(request_id, []).append(trace.trace_id)
        return dropped

    def _new_trace(self, trace_id: str) -> StoredTrace:
        while len(self._traces) >= self.max_traces:
            _, oldest = self._traces.popitem(last=False)
            for request_id in oldest.request_ids:
                traces = self._by_request[request_id]
                traces.remove(oldest.trace_id)
                if not traces:
                    del self._by_request[request_id]
        trace = self._traces[trace_id] = StoredTrace(trace_id)
        return trace

    def trace(self, trace_id: str) -> TraceBody | None:
        trace = self._traces.get(trace_id)
        if trace is None:
            return None
        ids = list(trace.request_ids)
        return TraceBody(
            trace_id=trace_id,
            request_id=ids[0] if ids else "",
            spans=by_start(trace.spans.values()),
            request_ids=ids,
            dropped_spans=trace.dropped_spans,
        )

    def request(self, request_id: str) -> TraceBody | None:
        """The newest trace that carries the request id, cut down to that request's spans."""
        trace_ids = self._by_request.get(request_id)
        if not trace_ids:
            return None
        trace = self._traces[trace_ids[-1]]
        return TraceBody(
            trace_id=trace.trace_id,
            request_id=request_id,
            spans=spans_of_request(list(trace.spans.values()), request_id),
            request_ids=list(trace.request_ids),
            dropped_spans=trace.dropped_spans,
            other_trace_ids=trace_ids[-2::-1],
        )

    def requests(self, limit: int) -> list[RequestSummary]:
        """The most recent requests first, by the start of their root span."""
        found = []
        for trace in self._traces.values():
            spans = list(trace.spans.values())
            for request_id in trace.request_ids:
                if self._by_request[request_id][-1] != trace.trace_id:
                    continue  # an older use of a reused id
                mine = spans if len(trace.request_ids) == 1 else spans_of_request(spans, request_id)
                summary = summarize(request_id, mine)
                if summary is not None:
                    found.append(summary)
        found.sort(key=lambda summary: summary.start_unix_nano, reverse=True)
        return found[:limit]


def _is_landmark(span: Span) -> bool:
    return not span.parent_span_id or bool(span.request_id)


def _makes_room(trace: StoredTrace, span: Span) -> bool:
    """Drop the oldest ordinary span of a full trace for a root or server span.

    Those end last, so they arrive last: a plain cap would drop the very spans
    that name the request and say how it went.
    """
    if not _is_landmark(span):
        return False
    victim = next((key for key, held in trace.spans.items() if not _is_landmark(held)), None)
    if victim is None:
        return False
    del trace.spans[victim]
    return True
