"""`TraceStoreClient`: what the dev stack's trace store holds, for the `/_dev/requests` pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from service_defaults.http_clients import create_http_client

T = TypeVar("T")
TRACE_STORE_TIMEOUT_S = 2.0


# The store's answers, re-declared: the edge never imports the dev stack.
class SpanEvent(msgspec.Struct, frozen=True):
    name: str
    time_unix_nano: int
    attributes: dict[str, object] = {}


class Span(msgspec.Struct, frozen=True):
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    kind: str
    start_unix_nano: int
    end_unix_nano: int
    status: str
    status_message: str = ""
    attributes: dict[str, object] = {}
    events: list[SpanEvent] = []
    links: list[dict[str, object]] = []
    scope: str = ""


class RequestSummary(msgspec.Struct, frozen=True):
    request_id: str
    trace_id: str
    start_unix_nano: int
    duration_ms: float
    method: str
    route: str
    status: int | None
    services: list[str]
    error: bool
    path: str = ""
    name: str = ""


class RequestTrace(msgspec.Struct, frozen=True):
    trace_id: str
    request_id: str
    spans: list[Span]
    request_ids: list[str] = []
    dropped_spans: int = 0
    other_trace_ids: list[str] = []


class TraceStoreError(Exception):
    """The trace store could not be asked.

    TraceStoreError
     +-- TraceStoreDown       nothing answers at its address (503)
     +-- TraceStoreBadAnswer  it answered something unreadable (502)
    """


class TraceStoreDown(TraceStoreError):
    pass


class TraceStoreBadAnswer(TraceStoreError):
    pass


class TraceStoreClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def recent_requests(self, limit: int) -> list[RequestSummary]:
        return await self._get("/api/requests", list[RequestSummary], {"limit": limit}) or []

    async def request_trace(self, request_id: str) -> RequestTrace | None:
        return await self._get(f"/api/requests/{quote(request_id, safe='')}", RequestTrace)

    async def _get(
        self, path: str, kind: type[T], params: dict[str, int] | None = None
    ) -> T | None:
        try:
            answer = await self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise TraceStoreDown(str(exc)) from exc
        if answer.status_code == 404:
            return None
        try:
            answer.raise_for_status()
            return msgspec.json.decode(answer.content, type=kind)
        except (httpx.HTTPStatusError, msgspec.DecodeError) as exc:
            raise TraceStoreBadAnswer(str(exc)) from exc


@asynccontextmanager
async def open_trace_store(url: str) -> AsyncIterator[TraceStoreClient]:
    """The client, for a lifespan to open and close; one per process."""
    async with create_http_client(url, timeout_s=TRACE_STORE_TIMEOUT_S) as http:
        yield TraceStoreClient(http)
