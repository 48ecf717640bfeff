"""The trace buffer: bounded by traces and by spans per trace, indexed by request id."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from devstack.trace_buffer import TraceBuffer
from devstack.trace_spans import Span, spans_of
from tests.unit.devstack.spans import Processes, dashboard_request, server


def decoded(processes: Processes) -> list[Span]:
    return spans_of(processes.export()).spans


def one_request(request_id: str, *, children: int = 0) -> list[Span]:
    processes = Processes()
    with processes.span("edge", "GET web", SpanKind.SERVER, server(request_id, "web")):
        for n in range(children):
            with processes.span("edge", f"step {n}"):
                pass
    return decoded(processes)


def test_the_oldest_trace_is_evicted_first() -> None:
    buffer = TraceBuffer(max_traces=2)

    for request_id in ("first", "second", "third"):
        buffer.add(one_request(request_id))

    assert len(buffer) == 2
    assert buffer.request("first") is None
    assert [s.request_id for s in buffer.requests(10)] == ["third", "second"]


def test_spans_past_the_cap_are_dropped_and_counted_but_the_root_is_kept() -> None:
    buffer = TraceBuffer(max_spans_per_trace=3)

    # The children end first and are exported first; the root ends, and arrives, last.
    dropped = buffer.add(one_request("big", children=5))

    held = buffer.request("big")
    assert held is not None
    assert dropped == 3
    assert held.dropped_spans == 3
    assert [s.name for s in held.spans] == ["GET web", "step 1", "step 2"]


def test_a_span_sent_again_replaces_its_copy() -> None:
    buffer = TraceBuffer(max_spans_per_trace=2)
    spans = one_request("resent", children=1)

    buffer.add(spans)
    dropped = buffer.add(spans)

    held = buffer.request("resent")
    assert held is not None
    assert (dropped, len(held.spans), held.dropped_spans) == (0, 2, 0)


def test_spans_of_every_process_with_one_request_id_make_one_request() -> None:
    buffer = TraceBuffer()
    processes = Processes()
    dashboard_request(processes, "rid-1")

    buffer.add(decoded(processes))

    [summary] = buffer.requests(10)
    held = buffer.request("rid-1")
    assert held is not None
    assert summary.request_id == "rid-1"
    assert summary.services == ["edge", "bff_web", "users", "orders"]
    assert len(held.spans) == summary.span_count == 9


def test_spans_arriving_in_several_exports_join_their_trace() -> None:
    buffer = TraceBuffer()
    processes = Processes()
    dashboard_request(processes, "rid-split")
    spans = decoded(processes)
    services_first = [s for s in spans if s.service != "edge"]

    buffer.add(services_first)
    early = buffer.requests(10)
    buffer.add([s for s in spans if s.service == "edge"])

    assert early[0].services == ["bff_web", "users", "orders"]
    [summary] = buffer.requests(10)
    assert summary.services == ["edge", "bff_web", "users", "orders"]
    assert summary.route == "web"  # from the edge's root span, now that it is here


def test_one_trace_with_two_request_ids_shows_each_request_its_own_spans() -> None:
    buffer = TraceBuffer()
    processes = Processes()
    # A proxy trusted to continue its trace sent both requests with one traceparent.
    with processes.span("proxy", "client request"):
        for request_id in ("rid-a", "rid-b"):
            with (
                processes.span("edge", "GET web", SpanKind.SERVER, server(request_id, "web")),
                processes.span("edge", f"inside {request_id}"),
            ):
                pass

    buffer.add(decoded(processes))

    a, b = buffer.request("rid-a"), buffer.request("rid-b")
    assert a is not None
    assert b is not None
    assert a.trace_id == b.trace_id
    assert {s.name for s in a.spans} == {"client request", "GET web", "inside rid-a"}
    assert {s.name for s in b.spans} == {"client request", "GET web", "inside rid-b"}
    assert sorted(s.request_id for s in buffer.requests(10)) == ["rid-a", "rid-b"]


def test_a_reused_request_id_finds_the_newest_trace_and_names_the_older() -> None:
    buffer = TraceBuffer()
    older, newer = one_request("reused"), one_request("reused")

    buffer.add(older)
    buffer.add(newer)

    held = buffer.request("reused")
    assert held is not None
    assert held.trace_id == newer[0].trace_id
    assert held.other_trace_ids == [older[0].trace_id]
    assert [s.trace_id for s in buffer.requests(10)] == [newer[0].trace_id]


def test_evicting_the_newer_use_of_an_id_leaves_the_older_findable() -> None:
    buffer = TraceBuffer(max_traces=2)
    first, second = one_request("shared"), one_request("shared")
    buffer.add(first)
    buffer.add(second)

    buffer.add(one_request("other"))  # evicts `first`, the oldest trace

    held = buffer.request("shared")
    assert held is not None
    assert (held.trace_id, held.other_trace_ids) == (second[0].trace_id, [])


def test_a_trace_is_found_by_its_id_without_a_request_id() -> None:
    buffer = TraceBuffer()
    processes = Processes()
    with processes.span("users", "rotate keys"):
        pass
    spans = decoded(processes)

    buffer.add(spans)

    held = buffer.trace(spans[0].trace_id)
    assert held is not None
    assert (held.request_id, [s.name for s in held.spans]) == ("", ["rotate keys"])
    assert buffer.requests(10) == []
