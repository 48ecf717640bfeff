"""Forwarding: what the upstream hears, what the client gets back, and failures before and after."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from edge.exchange import Exchange
from edge.forwarding import Forwarder
from edge.headers import HeaderPolicy
from edge.metrics import EdgeMetrics
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.route_file import load_route_table
from edge.routing import Route
from edge.upstream_client import UpstreamClient, UpstreamError
from tests.unit.edge.conftest import Connection, request_head
from tests.unit.edge.scripted_upstream import (
    CLOSE,
    Pause,
    ScriptedUpstream,
    Step,
    ok,
    refused_origin,
)

ANSWER_HEADERS = [(b"x-request-id", b"rid-1"), (b"x-content-type-options", b"nosniff")]


def route_to(origin: str, tmp_path: Path, **entry: Any) -> Route:
    document = {
        "routes": [
            {"name": "api", "path": {"value": "/api"}, "upstream": "api", "auth": "none", **entry}
        ]
    }
    path = tmp_path / "routes.yaml"
    path.write_text(json.dumps(document))
    route = load_route_table(path, {"api": origin}).match("/api")
    assert route is not None
    return route


async def forward(
    client: UpstreamClient,
    exchange: Exchange,
    route: Route,
    *,
    started: float | None = None,
    metrics: EdgeMetrics | None = None,
) -> None:
    forwarder = Forwarder(client, HeaderPolicy(["x-user-id"]), metrics or EdgeMetrics())
    await forwarder.forward(
        exchange,
        RequestFields(exchange.headers),
        route,
        answer_headers=ANSWER_HEADERS,
        forwarded_for="203.0.113.9",
        started=time.monotonic() if started is None else started,
    )


async def test_the_upstream_hears_the_rewritten_path_and_the_query_byte_for_byte(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path, rewrite_prefix="/v1")
    upstream.answer(ok())
    exchange = connection.exchange(request_head("GET", "/api/orders%20x?b=%2F&a=1"))

    await forward(client, exchange, route)

    [heard] = upstream.requests
    assert heard.target == b"/v1/orders%20x?b=%2F&a=1"


async def test_the_upstream_hears_what_the_edge_saw_and_not_what_the_client_claimed(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path, timeout_s=3.0)
    upstream.answer(ok())
    exchange = connection.exchange(
        request_head(
            "GET",
            "/api",
            [
                ("x-user-id", "admin"),
                ("x-forwarded-for", "10.9.9.9"),
                ("x-request-budget-ms", "999999"),
                ("accept", "application/json"),
            ],
        )
    )
    exchange.request_id = "rid-1"

    await forward(client, exchange, route)

    [heard] = upstream.requests
    sent = {name.lower(): value for name, value in heard.headers}
    assert b"x-user-id" not in sent
    assert sent[b"x-forwarded-for"] == b"203.0.113.9"
    assert sent[b"x-forwarded-host"] == b"edge.test"
    assert sent[b"x-request-id"] == b"rid-1"
    assert 0 < int(sent[b"x-request-budget-ms"]) <= 3000
    assert sent[b"accept"] == b"application/json"


async def test_a_small_chunked_body_reaches_the_upstream_whole_with_its_length(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(ok())
    exchange = connection.exchange(
        request_head("POST", "/api", [("transfer-encoding", "chunked")])
        + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )

    await forward(client, exchange, route)

    [heard] = upstream.requests
    assert heard.body == b"hello world"
    sent = {name.lower(): value for name, value in heard.headers}
    assert sent[b"content-length"] == b"11"
    assert b"transfer-encoding" not in sent


async def test_the_answer_comes_back_with_the_edges_headers_and_without_hop_by_hop_ones(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(ok(b"hello", b"Keep-Alive: timeout=5", b"X-Upstream: yes", b"Server: up"))
    exchange = connection.exchange(request_head())
    connection.transport.take()

    await forward(client, exchange, route)

    written = connection.transport.take()
    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"X-Upstream: yes" in head
    assert b"x-request-id: rid-1" in head
    assert b"Keep-Alive" not in head
    assert b"Server: up" not in head
    assert body == b"hello"
    assert exchange.complete


async def test_a_chunked_answer_streams_back_chunked(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
        Pause(0.05),
        b"2\r\nde\r\n0\r\n\r\n",
    )
    exchange = connection.exchange(request_head())
    connection.transport.take()

    await forward(client, exchange, route)

    written = connection.transport.take()
    assert b"transfer-encoding: chunked\r\n" in written
    assert written.endswith(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")


async def test_a_dead_upstream_is_a_502_refusal_counted_as_unreachable(
    client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(refused_origin(), tmp_path)
    metrics = EdgeMetrics()

    with pytest.raises(Refused) as refused:
        await forward(client, connection.exchange(request_head()), route, metrics=metrics)

    assert refused.value.status == 502
    assert "127.0.0.1" not in refused.value.detail, "no internal address in the answer"
    assert _counted(metrics, "unreachable") == 1


async def test_an_upstream_that_never_answers_is_a_504_within_the_route_timeout(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path, timeout_s=0.2)
    upstream.answer(Pause(5.0))
    metrics = EdgeMetrics()
    began = time.monotonic()

    with pytest.raises(Refused) as refused:
        await forward(client, connection.exchange(request_head()), route, metrics=metrics)

    assert refused.value.status == 504
    assert time.monotonic() - began < 2.0
    assert _counted(metrics, "timeout") == 1


async def test_a_request_that_already_spent_the_route_timeout_is_a_504_without_upstream_call(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path, timeout_s=1.0)

    with pytest.raises(Refused) as refused:
        await forward(
            client,
            connection.exchange(request_head()),
            route,
            started=time.monotonic() - 2.0,
        )

    assert refused.value.status == 504
    assert upstream.requests == []


async def test_an_answer_cut_short_after_it_started_propagates_and_is_not_completed(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    # Longer than the edge reads whole before answering: it streams.
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nonly part", CLOSE)
    exchange = connection.exchange(request_head())

    with pytest.raises(UpstreamError):
        await forward(client, exchange, route)

    assert exchange.started
    assert not exchange.complete, "a truncated answer must not look whole"


async def test_a_small_answer_cut_short_before_the_client_heard_anything_is_a_502(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part", CLOSE)
    exchange = connection.exchange(request_head())
    metrics = EdgeMetrics()

    with pytest.raises(Refused) as refused:
        await forward(client, exchange, route, metrics=metrics)

    assert refused.value.status == 502
    assert not exchange.started, "the client heard nothing of the half answer"
    assert _counted(metrics, "unreachable") == 1


async def test_a_small_answer_whose_body_stalls_is_a_504(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path, timeout_s=0.3)
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhe", Pause(5.0))
    exchange = connection.exchange(request_head())
    metrics = EdgeMetrics()

    with pytest.raises(Refused) as refused:
        await forward(client, exchange, route, metrics=metrics)

    assert refused.value.status == 504
    assert not exchange.started
    assert _counted(metrics, "timeout") == 1


def _counted(metrics: EdgeMetrics, kind: str) -> float:
    value = metrics.registry.get_sample_value(
        "frontdoor_edge_upstream_errors_total", {"route": "api", "kind": kind}
    )
    return value or 0.0


async def test_an_upstream_status_outside_http_is_a_502_not_a_half_answer(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(b"HTTP/1.1 700 Odd\r\ncontent-length: 0\r\n\r\n")
    exchange = connection.exchange(request_head())

    with pytest.raises(Refused) as refused:
        await forward(client, exchange, route)

    assert refused.value.status == 502
    assert not exchange.started


async def test_the_head_reaches_the_client_before_a_slow_body_starts(
    upstream: ScriptedUpstream, client: UpstreamClient, connection: Connection, tmp_path: Path
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        Pause(0.5),
        b"2\r\nok\r\n0\r\n\r\n",
    )
    exchange = connection.exchange(request_head())
    connection.transport.take()

    forwarding = asyncio.create_task(forward(client, exchange, route))
    await asyncio.sleep(0.25)
    early = connection.transport.take()
    await forwarding

    assert early.startswith(b"HTTP/1.1 200 OK\r\n") and early.endswith(b"\r\n\r\n")
    assert connection.transport.take() == b"2\r\nok\r\n0\r\n\r\n"


@pytest.mark.parametrize(
    "script",
    [
        (ok(b"hello"),),
        # The body after its head, as an upstream on uvicorn writes them: still one write.
        (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", Pause(0.1), b"hello"),
    ],
    ids=["with-its-head", "after-its-head"],
)
async def test_a_small_answer_goes_out_in_one_write(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    connection: Connection,
    tmp_path: Path,
    script: tuple[Step, ...],
) -> None:
    route = route_to(upstream.origin, tmp_path)
    upstream.answer(*script)
    exchange = connection.exchange(request_head())
    connection.transport.take()
    writes = _recorded_writes(connection)

    await forward(client, exchange, route)

    [only] = writes
    assert only.startswith(b"HTTP/1.1 200 OK\r\n") and only.endswith(b"\r\n\r\nhello")
    assert exchange.complete


def _recorded_writes(connection: Connection) -> list[bytes]:
    """Every write to the client's transport from now on, one entry per call."""
    writes: list[bytes] = []
    write = connection.transport.write

    def recorded(data: bytes | bytearray | memoryview[Any]) -> None:
        writes.append(bytes(data))
        write(data)

    connection.transport.write = recorded  # type: ignore[method-assign]
    return writes
