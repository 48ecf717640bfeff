"""Forwarding: each export passed on unchanged, in the background, failures logged sparingly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from devstack.trace_forwarding import MAX_PENDING, Forwarder

URL = "http://collector.test/v1/traces"


@asynccontextmanager
async def running(
    answer: Callable[[httpx.Request], httpx.Response], headers: dict[str, str] | None = None
) -> AsyncIterator[Forwarder]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        forwarder = Forwarder(URL, http, headers)
        task = asyncio.create_task(forwarder.run())
        try:
            yield forwarder
        finally:
            await forwarder.drain()
            task.cancel()


async def test_export_is_forwarded_unchanged_with_the_configured_headers() -> None:
    seen: list[httpx.Request] = []

    def collector(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with running(collector, {"api-key": "k-1"}) as forwarder:
        forwarder.submit(b"\x0a\x01spans", "application/x-protobuf", "gzip")

    [request] = seen
    assert str(request.url) == URL
    assert request.content == b"\x0a\x01spans"
    assert request.headers["content-type"] == "application/x-protobuf"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["api-key"] == "k-1"
    assert (forwarder.forwarded, forwarder.failed) == (1, 0)


async def test_a_dead_collector_is_warned_about_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with caplog.at_level(logging.WARNING, logger="frontdoor.trace_store"):
        async with running(down) as forwarder:
            for _ in range(3):
                forwarder.submit(b"spans", "application/json", None)

    assert forwarder.failed == 3
    assert [r.getMessage() for r in caplog.records if "could not forward" in r.getMessage()] == [
        f"could not forward spans to {URL}: ConnectError('refused')"
    ]


async def test_a_refusing_collector_counts_as_a_failure() -> None:
    async with running(lambda _: httpx.Response(503)) as forwarder:
        forwarder.submit(b"spans", "application/json", None)

    assert (forwarder.forwarded, forwarder.failed) == (0, 1)


async def test_submit_never_waits_and_drops_past_the_queue() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(200))
    ) as http:
        forwarder = Forwarder(URL, http)  # nothing drains it

        for _ in range(MAX_PENDING + 5):
            forwarder.submit(b"spans", "application/json", None)

    assert forwarder.failed == 5
