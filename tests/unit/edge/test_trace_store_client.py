"""`TraceStoreClient` against a real HTTP server on 127.0.0.1 playing the dev trace store."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest

from edge import trace_store_client
from edge.trace_store_client import (
    TraceStoreBadAnswer,
    TraceStoreDown,
    open_trace_store,
)

SUMMARY: dict[str, Any] = {
    "request_id": "r1",
    "trace_id": "t1",
    "start_unix_nano": 1_700_000_000_000_000_000,
    "duration_ms": 12.5,
    "method": "GET",
    "route": "web",
    "status": 200,
    "services": ["edge", "bff-web"],
    "error": False,
    "path": "/api/web/dashboard",
    "name": "GET web",
}
SPAN: dict[str, Any] = {
    "trace_id": "t1",
    "span_id": "s1",
    "parent_span_id": "",
    "name": "GET web",
    "service": "edge",
    "kind": "SERVER",
    "start_unix_nano": 1,
    "end_unix_nano": 2,
    "status": "OK",
    "events": [{"name": "retry", "time_unix_nano": 1}],
}


class TraceStore:
    """Answers each path with a canned status and JSON body, 404 otherwise; keeps each target."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.targets: list[str] = []
        self.hang = False
        self._released = asyncio.Event()
        self._server: asyncio.Server | None = None

    def answer(self, path: str, status: int, body: object) -> None:
        self.answers[path] = (
            status,
            body if isinstance(body, bytes) else json.dumps(body).encode(),
        )

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._released.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            self.targets.append(target)
            if self.hang:
                await self._released.wait()
                return
            status, body = self.answers.get(target.split("?")[0], (404, b'{"detail":"no"}'))
            writer.write(
                b"HTTP/1.1 %d Canned\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%b" % (status, len(body), body)
            )
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def store() -> AsyncIterator[TraceStore]:
    server = TraceStore()
    yield server
    await server.stop()


async def test_recent_requests_are_decoded_and_the_limit_is_sent(store: TraceStore) -> None:
    store.answer("/api/requests", 200, [SUMMARY])

    async with open_trace_store(await store.start()) as client:
        recent = await client.recent_requests(5)

    assert store.targets == ["/api/requests?limit=5"]
    assert [(r.request_id, r.route, r.status, r.services) for r in recent] == [
        ("r1", "web", 200, ["edge", "bff-web"])
    ]


async def test_fields_a_summary_leaves_out_get_their_defaults(store: TraceStore) -> None:
    bare = {k: v for k, v in SUMMARY.items() if k not in ("path", "name")} | {"status": None}
    store.answer("/api/requests", 200, [bare])

    async with open_trace_store(await store.start()) as client:
        (summary,) = await client.recent_requests(1)

    assert (summary.path, summary.name, summary.status) == ("", "", None)


async def test_no_request_list_at_all_is_an_empty_list(store: TraceStore) -> None:
    async with open_trace_store(await store.start()) as client:
        assert await client.recent_requests(5) == []


async def test_a_request_trace_is_decoded_with_its_spans(store: TraceStore) -> None:
    store.answer("/api/requests/r1", 200, {"trace_id": "t1", "request_id": "r1", "spans": [SPAN]})

    async with open_trace_store(await store.start()) as client:
        trace = await client.request_trace("r1")

    assert trace is not None
    assert trace.request_id == "r1"
    assert [(s.span_id, s.service, s.events[0].name) for s in trace.spans] == [
        ("s1", "edge", "retry")
    ]
    assert (trace.dropped_spans, trace.other_trace_ids) == (0, [])


async def test_an_unknown_request_is_none(store: TraceStore) -> None:
    async with open_trace_store(await store.start()) as client:
        assert await client.request_trace("missing") is None


async def test_a_request_id_is_sent_as_one_path_segment(store: TraceStore) -> None:
    async with open_trace_store(await store.start()) as client:
        await client.request_trace("../a/b?c=1#d")

    # Nothing in the id can reach another path or add a query.
    (target,) = store.targets
    segment = target.removeprefix("/api/requests/")
    assert "/" not in segment
    assert "?" not in segment
    assert unquote(segment) == "../a/b?c=1#d"


@pytest.mark.parametrize("status", [500, 503, 400])
async def test_an_error_status_from_the_store_is_a_bad_answer(
    store: TraceStore, status: int
) -> None:
    store.answer("/api/requests", status, {"detail": "broken"})

    async with open_trace_store(await store.start()) as client:
        with pytest.raises(TraceStoreBadAnswer):
            await client.recent_requests(5)


@pytest.mark.parametrize(
    "body",
    [b"<html>not json</html>", b'[{"request_id": "r1"}]', b'{"requests": []}'],
    ids=["not-json", "missing-fields", "wrong-shape"],
)
async def test_an_answer_that_does_not_decode_is_a_bad_answer(
    store: TraceStore, body: bytes
) -> None:
    store.answer("/api/requests", 200, body)

    async with open_trace_store(await store.start()) as client:
        with pytest.raises(TraceStoreBadAnswer):
            await client.recent_requests(5)


async def test_nothing_listening_is_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again: nothing answers there.

    async with open_trace_store(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(TraceStoreDown):
            await client.recent_requests(5)


async def test_a_store_that_never_answers_is_down_once_the_timeout_passes(
    store: TraceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_store_client, "TRACE_STORE_TIMEOUT_S", 0.2)
    store.hang = True

    async with open_trace_store(await store.start()) as client:
        started = time.monotonic()
        with pytest.raises(TraceStoreDown):
            await client.request_trace("r1")

    assert time.monotonic() - started < 1.5, "the page must not wait longer than the timeout"
