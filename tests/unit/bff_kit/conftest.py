"""Fixtures for the BFF kit: one upstream's chain built as a BFF builds it, over a mocked wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
import msgspec
import pytest
import respx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bff_kit.settings import BffSettings
from bff_kit.upstreams import Upstream, Upstreams
from service_defaults.deadlines import Deadline, deadline_scope

SERVICE = "http://svc.test"
WIDGET_URL = f"{SERVICE}/widgets/w1"
WIDGET = {"id": "w1", "size": 3}
CALLS = "frontdoor_bff_upstream_calls_total"
RETRIES = "frontdoor_bff_upstream_retries_total"
CIRCUIT = "frontdoor_bff_circuit_state"
# Held answers wait for a release: a call that should have failed fast fails the
# test after this long instead of hanging it.
HANG_GUARD_S = 2.0


class Widget(msgspec.Struct, frozen=True):
    id: str
    size: int


@dataclass(frozen=True)
class Svc:
    """The upstream "svc", its opened client, and the metrics its calls write."""

    upstream: Upstream
    http: httpx.AsyncClient
    registry: CollectorRegistry

    def sample(self, name: str, **labels: str) -> float | None:
        return sample(self.registry, name, upstream=self.upstream.name, **labels)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One value of the /metrics text as Prometheus reads it, or None when absent."""
    text = generate_latest(registry).decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


@pytest.fixture
def wire() -> Iterator[respx.MockRouter]:
    # The router is the network under the chain (see `open_svc`): everything above it
    # (deadline, breaker, retries, faults) runs for real.
    with respx.MockRouter(assert_all_called=False) as router:
        yield router


@asynccontextmanager
async def open_svc(
    wire: respx.MockRouter, settings: BffSettings | None = None
) -> AsyncIterator[Svc]:
    """The chain as production composes it: `Upstreams(...).add(...).open_client()`."""
    upstreams = Upstreams(
        settings or BffSettings(), network=httpx.MockTransport(wire.async_handler)
    )
    upstream = upstreams.add("svc", SERVICE)
    async with upstream.open_client() as http:
        yield Svc(upstream, http, upstreams.registry)


@pytest.fixture
async def svc(wire: respx.MockRouter) -> AsyncIterator[Svc]:
    async with open_svc(wire) as opened:
        yield opened


def within_deadline(deadline: float | Deadline) -> AbstractContextManager[Deadline]:
    """The request context as `DeadlineMiddleware` leaves it: a deadline this far away."""
    return deadline_scope(deadline if isinstance(deadline, Deadline) else Deadline(deadline))


class Held:
    """A respx side effect that counts requests as they arrive (respx records them only
    once answered) and holds each answer until `release` is set."""

    def __init__(self, status: int = 200) -> None:
        self.count = 0
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self._status = status

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        self.arrived.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return httpx.Response(self._status, json=WIDGET)
