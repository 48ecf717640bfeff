"""`CircuitBreaker` and its transport: when a failing service stops being called, and how long."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from litestar.exceptions import HTTPException

from bff_kit.answers import decode
from bff_kit.breaker import BreakerState, CircuitBreaker, CircuitOpen
from bff_kit.errors import UpstreamError
from bff_kit.settings import BffSettings
from tests.unit.bff_kit.conftest import (
    CALLS,
    CIRCUIT,
    HANG_GUARD_S,
    WIDGET,
    WIDGET_URL,
    Held,
    Svc,
    Widget,
    open_svc,
    within_deadline,
)

RESET_AFTER_S = 0.05
# Comfortably past RESET_AFTER_S, still quick.
PAST_RESET_S = 0.1
QUICK_RESET = BffSettings(breaker_reset_after_s=RESET_AFTER_S)
OK = httpx.Response(200, json=WIDGET)
FAIL = httpx.Response(500)
DURATION = "frontdoor_bff_upstream_call_duration_seconds"


async def call(svc: Svc) -> Widget:
    async with asyncio.timeout(HANG_GUARD_S):
        return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")


async def call_expecting(svc: Svc, status: int) -> None:
    with pytest.raises(UpstreamError) as raised:
        await call(svc)
    assert raised.value.status_code == status


async def open_circuit(svc: Svc, route: respx.Route) -> None:
    route.mock(return_value=FAIL)  # a 500 is not retried: one call, one failure
    for _ in range(5):
        await call_expecting(svc, 502)
    assert svc.upstream.breaker.state == BreakerState.OPEN


# The state machine on its own


def test_breaker_opens_at_the_threshold_and_then_refuses_calls() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=60.0)
    breaker.record_failure()
    assert breaker.before_call() is False  # still closed: a plain call, not a probe

    breaker.record_failure()

    assert breaker.state == BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_half_open_breaker_lets_one_probe_at_a_time() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=0.0)
    breaker.record_failure()

    assert breaker.before_call() is True  # the probe
    assert breaker.state == BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    breaker.release_probe()
    assert breaker.before_call() is True  # a new probe in the released one's place


# Failures open the circuit; an open circuit answers 503 without touching the network


async def test_five_failures_in_a_row_open_the_circuit_and_the_sixth_call_fails_fast(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(500)
    for _ in range(5):
        await call_expecting(svc, 502)
    assert route.call_count == 5

    await call_expecting(svc, 503)

    assert route.call_count == 5
    assert svc.sample(CALLS, outcome="status_500") == 5.0
    assert svc.sample(CALLS, outcome="circuit_open") == 1.0
    assert svc.sample(CIRCUIT) == float(BreakerState.OPEN)


async def test_a_success_between_failures_keeps_the_circuit_closed(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[FAIL] * 4 + [OK] + [FAIL] * 4 + [OK])

    for _ in range(4):
        await call_expecting(svc, 502)
    await call(svc)
    for _ in range(4):
        await call_expecting(svc, 502)

    assert await call(svc) == Widget(id="w1", size=3)
    assert route.call_count == 10


async def test_caller_errors_do_not_count_against_the_service(
    wire: respx.MockRouter,
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[FAIL, httpx.Response(404), FAIL, OK])
    async with open_svc(wire, BffSettings(breaker_failure_threshold=2)) as svc:
        await call_expecting(svc, 502)
        with pytest.raises(HTTPException) as refused:
            await call(svc)  # the caller's answer, and a success of the service's
        assert refused.value.status_code == 404
        await call_expecting(svc, 502)

        assert await call(svc) == Widget(id="w1", size=3)

    assert route.call_count == 4


async def test_retried_attempts_of_one_call_are_one_failure(
    svc: Svc, wire: respx.MockRouter
) -> None:
    # The breaker sits outside the retries: two calls of several failed attempts each
    # are two failures, and cannot open a circuit meant to open after five.
    route = wire.get(WIDGET_URL).mock(side_effect=httpx.ConnectError("refused"))

    await call_expecting(svc, 502)
    await call_expecting(svc, 502)

    assert route.call_count == 3 + 2  # the retry budget's floor paid for three retries
    assert svc.upstream.breaker.state == BreakerState.CLOSED
    assert svc.sample(CALLS, outcome="unreachable") == 2.0


# After the reset time, one probe


async def test_after_the_reset_time_exactly_one_probe_goes_through(wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        probe_answer = Held()
        route.mock(side_effect=probe_answer)

        probe = asyncio.create_task(call(svc))
        await asyncio.wait_for(probe_answer.arrived.wait(), timeout=1.0)
        assert svc.upstream.breaker.state == BreakerState.HALF_OPEN
        await call_expecting(svc, 503)  # while the probe is out
        probe_answer.release.set()

        assert await probe == Widget(id="w1", size=3)
    assert probe_answer.count == 1


async def test_successful_probe_closes_the_circuit(wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        route.mock(return_value=OK)

        await call(svc)  # the probe
        await asyncio.gather(call(svc), call(svc), call(svc))

    assert route.call_count == 5 + 1 + 3
    assert svc.upstream.breaker.state == BreakerState.CLOSED
    assert svc.sample(CIRCUIT) == float(BreakerState.CLOSED)


async def test_failed_probe_opens_the_circuit_again(wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)

        await call_expecting(svc, 502)  # the probe, answered 500 again
        await call_expecting(svc, 503)

    assert route.call_count == 5 + 1
    assert svc.upstream.breaker.state == BreakerState.OPEN


async def test_probe_that_fails_to_connect_is_one_failure_and_opens_the_circuit_again(
    wire: respx.MockRouter,
) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        route.mock(side_effect=httpx.ConnectError("refused"))

        await call_expecting(svc, 502)  # the probe, retried inside the one verdict
        await call_expecting(svc, 503)

    assert route.call_count == 5 + 3
    assert svc.upstream.breaker.state == BreakerState.OPEN


async def test_cancelled_probe_does_not_keep_the_circuit_shut(wire: respx.MockRouter) -> None:
    # A probe is cancelled when a sibling section fails, or the client goes away.
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        hanging = Held()
        route.mock(side_effect=hanging)
        probe = asyncio.create_task(call(svc))
        await asyncio.wait_for(hanging.arrived.wait(), timeout=1.0)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        route.mock(return_value=OK)

        assert await call(svc) == Widget(id="w1", size=3)  # the next probe, at once
    assert svc.upstream.breaker.state == BreakerState.CLOSED


class UnmappedNetworkError(Exception):
    """What httpx-aiohttp lets through unmapped: aiohttp's `ClientResponseError` for a
    bad status line, say."""


async def test_probe_ended_by_an_unexpected_error_does_not_keep_the_circuit_shut(
    wire: respx.MockRouter,
) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        route.mock(side_effect=UnmappedNetworkError("bad status line"))
        with pytest.raises(UnmappedNetworkError):
            await call(svc)  # the probe
        route.mock(return_value=OK)

        assert await call(svc) == Widget(id="w1", size=3)  # the next probe, at once
    assert svc.upstream.breaker.state == BreakerState.CLOSED


# Timeouts: the service's fault only when it had its full time


async def test_timeouts_of_a_starved_deadline_do_not_open_the_circuit(
    wire: respx.MockRouter,
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=Held())  # never answers
    async with open_svc(wire, BffSettings(request_budget_s=2.0)) as svc:
        for _ in range(8):  # each call left 20 ms of a 2 s timeout by its request
            with within_deadline(0.02):
                await call_expecting(svc, 504)

    assert svc.upstream.breaker.state == BreakerState.CLOSED
    assert svc.sample(CALLS, outcome="deadline") == 8.0
    assert svc.sample(CALLS, outcome="timeout") is None


async def test_starved_probe_that_times_out_does_not_keep_the_circuit_shut(
    wire: respx.MockRouter,
) -> None:
    route = wire.get(WIDGET_URL)
    async with open_svc(wire, QUICK_RESET) as svc:
        await open_circuit(svc, route)
        await asyncio.sleep(PAST_RESET_S)
        route.mock(side_effect=Held())
        with within_deadline(0.02):
            await call_expecting(svc, 504)  # the probe, starved by its request
        route.mock(return_value=OK)

        assert await call(svc) == Widget(id="w1", size=3)  # the next probe


async def test_timeouts_with_the_full_time_do_open_the_circuit(wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).mock(side_effect=Held())  # never answers
    async with open_svc(wire, BffSettings(request_budget_s=0.05)) as svc:
        for _ in range(5):  # each call had its whole 50 ms
            with within_deadline(0.05):
                await call_expecting(svc, 504)

        assert svc.upstream.breaker.state == BreakerState.OPEN
        assert svc.sample(CALLS, outcome="timeout") == 5.0
        await call_expecting(svc, 503)


# How each failure on the wire ends, and how it is counted


@pytest.mark.parametrize(
    ("failure", "status", "outcome"),
    [
        (httpx.ConnectError("refused"), 502, "unreachable"),
        (httpx.RemoteProtocolError("peer closed"), 502, "unreachable"),
        (httpx.ReadError("connection reset"), 502, "unreachable"),
        (httpx.ConnectTimeout("no connection"), 502, "unreachable"),
        (httpx.ReadTimeout("slow answer"), 504, "timeout"),
        (httpx.PoolTimeout("no free connection"), 504, "timeout"),
    ],
    ids=[
        "connect-error",
        "protocol-error",
        "read-error",
        "connect-timeout",
        "read-timeout",
        "pool",
    ],
)
async def test_transport_failure_is_upstream_error(
    failure: httpx.TransportError, status: int, outcome: str, svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=failure)

    await call_expecting(svc, status)

    assert svc.sample(CALLS, outcome=outcome) == 1.0


async def test_successful_calls_count_as_ok_with_the_circuit_closed(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(json=WIDGET)

    await call(svc)
    await call(svc)

    assert svc.sample(CALLS, outcome="ok") == 2.0
    assert svc.sample(CIRCUIT) == float(BreakerState.CLOSED)


async def test_failed_calls_are_counted_by_outcome(svc: Svc, wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).respond(500)
    wire.get("http://svc.test/widgets/w2").mock(side_effect=httpx.ReadTimeout("slow"))

    await call_expecting(svc, 502)
    with pytest.raises(UpstreamError):
        await svc.http.get("/widgets/w2")

    assert svc.sample(CALLS, outcome="status_500") == 1.0
    assert svc.sample(CALLS, outcome="timeout") == 1.0
    assert svc.sample(CALLS, outcome="ok") is None


async def test_each_call_is_timed_by_outcome_once_however_many_attempts(
    svc: Svc, wire: respx.MockRouter
) -> None:
    async def slow_widget(_: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)
        return httpx.Response(200, json=WIDGET)

    wire.get(WIDGET_URL).mock(side_effect=slow_widget)
    wire.get("http://svc.test/widgets/w2").mock(side_effect=httpx.ConnectError("refused"))

    await call(svc)
    await call(svc)
    with pytest.raises(UpstreamError):
        await svc.http.get("/widgets/w2")  # three attempts, one call

    assert svc.sample(f"{DURATION}_count", outcome="ok") == 2.0
    assert (svc.sample(f"{DURATION}_sum", outcome="ok") or 0) >= 0.04
    assert svc.sample(f"{DURATION}_count", outcome="unreachable") == 1.0
