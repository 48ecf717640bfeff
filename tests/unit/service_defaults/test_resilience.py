"""The circuit breaker and the retry budget, as `Upstream` applies them to calls on the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import respx
from prometheus_client import CollectorRegistry

from service_defaults.deadlines import Deadline
from service_defaults.resilience import BreakerState, CircuitBreaker, RetryBudget
from service_defaults.upstream import Upstream, UpstreamError, UpstreamMetrics

SERVICE = "http://svc.test"
ITEM_URL = f"{SERVICE}/items/1"
RESET_AFTER_S = 0.05
# Comfortably past RESET_AFTER_S, still quick.
PAST_RESET_S = 0.1
# Held answers below wait for a release: a call that should have failed fast
# fails the test after this long instead of hanging it.
HANG_GUARD_S = 2.0


class Item(msgspec.Struct, frozen=True):
    id: str


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=SERVICE) as client:
        yield client


def upstream(
    client: httpx.AsyncClient,
    *,
    breaker: CircuitBreaker | None = None,
    budget: RetryBudget | None = None,
) -> Upstream:
    metrics = UpstreamMetrics(CollectorRegistry())
    return Upstream("svc", client, metrics, breaker=breaker, retry_budget=budget)


async def call(service: Upstream, method: str = "GET") -> Item:
    async with asyncio.timeout(HANG_GUARD_S):
        return await service.call_json(method, "/items/1", Item, deadline=Deadline(5.0), headers={})


async def call_expecting(service: Upstream, status: int) -> None:
    with pytest.raises(UpstreamError) as raised:
        await call(service)
    assert raised.value.status_code == status


class Arrivals:
    """A respx side effect that counts requests as they arrive (respx records them only
    once answered) and holds each answer until `release` is set."""

    def __init__(self, status: int = 200) -> None:
        self.count = 0
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self._status = status

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        self.arrived.set()
        await self.release.wait()
        return httpx.Response(self._status, json={"id": "1"})


async def open_circuit(service: Upstream, route: respx.Route) -> None:
    route.respond(500)  # a 500 is not retried: one call, one failure
    for _ in range(5):
        await call_expecting(service, 502)
    assert service.breaker.state == BreakerState.OPEN


# Circuit breaker


async def test_five_failures_in_a_row_open_the_circuit_and_the_sixth_call_fails_fast(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client)
    route = wire.get(ITEM_URL).respond(500)
    for _ in range(5):
        await call_expecting(service, 502)
    assert route.call_count == 5

    await call_expecting(service, 503)

    assert route.call_count == 5


async def test_a_success_between_failures_keeps_the_circuit_closed(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client)
    fail, ok = httpx.Response(500), httpx.Response(200, json={"id": "1"})
    route = wire.get(ITEM_URL).mock(side_effect=[fail] * 4 + [ok] + [fail] * 4 + [ok])

    for _ in range(4):
        await call_expecting(service, 502)
    await call(service)
    for _ in range(4):
        await call_expecting(service, 502)

    assert await call(service) == Item(id="1")
    assert route.call_count == 10


async def test_after_the_reset_time_exactly_one_probe_goes_through(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, breaker=CircuitBreaker(reset_after_s=RESET_AFTER_S))
    route = wire.get(ITEM_URL)
    await open_circuit(service, route)
    await asyncio.sleep(PAST_RESET_S)
    probe_answer = Arrivals()
    route.mock(side_effect=probe_answer)

    probe = asyncio.create_task(call(service))
    await asyncio.wait_for(probe_answer.arrived.wait(), timeout=1.0)
    await call_expecting(service, 503)  # while the probe is out
    probe_answer.release.set()

    assert await probe == Item(id="1")
    assert probe_answer.count == 1


async def test_successful_probe_closes_the_circuit(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, breaker=CircuitBreaker(reset_after_s=RESET_AFTER_S))
    route = wire.get(ITEM_URL)
    await open_circuit(service, route)
    await asyncio.sleep(PAST_RESET_S)
    route.respond(json={"id": "1"})

    await call(service)  # the probe
    await asyncio.gather(call(service), call(service), call(service))

    assert route.call_count == 5 + 1 + 3
    assert service.breaker.state == BreakerState.CLOSED


async def test_failed_probe_opens_the_circuit_again(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, breaker=CircuitBreaker(reset_after_s=RESET_AFTER_S))
    route = wire.get(ITEM_URL)
    await open_circuit(service, route)
    await asyncio.sleep(PAST_RESET_S)

    await call_expecting(service, 502)  # the probe, answered 500 again
    await call_expecting(service, 503)

    assert route.call_count == 5 + 1
    assert service.breaker.state == BreakerState.OPEN


async def test_cancelled_probe_does_not_keep_the_circuit_shut(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    # A probe is cancelled when a sibling section fails, or the client goes away.
    service = upstream(client, breaker=CircuitBreaker(reset_after_s=RESET_AFTER_S))
    route = wire.get(ITEM_URL)
    await open_circuit(service, route)
    await asyncio.sleep(PAST_RESET_S)
    hanging = Arrivals()
    route.mock(side_effect=hanging)
    probe = asyncio.create_task(call(service))
    await asyncio.wait_for(hanging.arrived.wait(), timeout=1.0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    await asyncio.sleep(PAST_RESET_S)
    route.respond(json={"id": "1"})

    assert await call(service) == Item(id="1")


# Retry budget


async def test_retry_budget_stops_retries_in_a_burst_of_failures(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    # A breaker that never opens, so only the budget limits the calls.
    service = upstream(
        client,
        breaker=CircuitBreaker(failure_threshold=1_000),
        budget=RetryBudget(ratio=0.2, floor=3),
    )
    route = wire.get(ITEM_URL).mock(side_effect=httpx.ConnectError("refused"))

    for _ in range(20):
        await call_expecting(service, 502)

    # Without a budget, three attempts each would make 60 calls.
    assert 20 < route.call_count <= 20 + 3 + 20 * 0.2


async def test_calls_earn_the_retry_budget_back(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, budget=RetryBudget(ratio=0.5, floor=0))
    ok = httpx.Response(200, json={"id": "1"})
    route = wire.get(ITEM_URL).mock(side_effect=[httpx.ConnectError("refused"), ok])
    await call_expecting(service, 502)  # half a token: no retry
    assert route.call_count == 1
    await call(service)  # a whole token now

    route.mock(side_effect=[httpx.ConnectError("refused"), ok])

    assert await call(service) == Item(id="1")


async def test_post_spends_no_retry_budget(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, budget=RetryBudget(ratio=0.0, floor=1))
    wire.post(ITEM_URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(UpstreamError):
        await call(service, "POST")  # never retried, so it must not spend the one token

    ok = httpx.Response(200, json={"id": "1"})
    wire.get(ITEM_URL).mock(side_effect=[httpx.ConnectError("refused"), ok])

    assert await call(service) == Item(id="1")


async def test_last_failed_attempt_spends_no_retry_budget(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    service = upstream(client, budget=RetryBudget(ratio=0.0, floor=3))
    route = wire.get(ITEM_URL).mock(side_effect=httpx.ConnectError("refused"))
    await call_expecting(service, 502)  # three attempts are two retries: one token is left
    assert route.call_count == 3

    route.mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"id": "1"})])

    assert await call(service) == Item(id="1")


async def test_timeouts_of_a_starved_deadline_do_not_open_the_circuit(
    wire: respx.MockRouter,
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, json={"id": "1"})

    wire.get(ITEM_URL).mock(side_effect=slow)
    async with httpx.AsyncClient(base_url=SERVICE, timeout=2.0) as client:
        service = upstream(client)
        for _ in range(8):  # each call left 20 ms of a 2 s timeout by its request
            with pytest.raises(UpstreamError) as raised:
                await service.call_json(
                    "GET", "/items/1", Item, deadline=Deadline(0.02), headers={}
                )
            assert raised.value.status_code == 504

        assert service.breaker.state == BreakerState.CLOSED


async def test_timeouts_with_the_full_time_do_open_the_circuit(wire: respx.MockRouter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(200, json={"id": "1"})

    wire.get(ITEM_URL).mock(side_effect=slow)
    async with httpx.AsyncClient(base_url=SERVICE, timeout=0.05) as client:
        service = upstream(client)
        for _ in range(5):  # each call had its whole 50 ms
            with pytest.raises(UpstreamError):
                await service.call_json(
                    "GET", "/items/1", Item, deadline=Deadline(0.05), headers={}
                )

        assert service.breaker.state == BreakerState.OPEN
