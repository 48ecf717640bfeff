"""The chain `Upstream.open_client` composes, and `DeadlineTransport` at its top."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from bff_kit.errors import UpstreamError
from bff_kit.settings import BffSettings
from bff_kit.upstreams import DeadlineTransport, Upstreams
from service_defaults.deadlines import BUDGET_HEADER, Deadline
from tests.unit.bff_kit.conftest import (
    CALLS,
    HANG_GUARD_S,
    SERVICE,
    WIDGET,
    WIDGET_URL,
    Held,
    Svc,
    open_svc,
    sample,
    within_deadline,
)


class AlmostSpent(Deadline):
    """A deadline that stays 0.4 ms away, however long the test takes to reach it."""

    def remaining(self) -> float:
        return 0.0004


# What `create_http_client` gives the client: the full timeout, a second to connect.
FULL_TIMEOUTS = {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0}


async def test_remaining_budget_is_sent_downstream_in_milliseconds(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with within_deadline(0.75):
        await svc.http.get("/widgets/w1")

    budget = route.calls.last.request.headers[BUDGET_HEADER]
    assert budget.isdigit()
    assert 500 < int(budget) <= 750


async def test_nearly_spent_budget_is_sent_as_at_least_one_millisecond(
    wire: respx.MockRouter,
) -> None:
    seen: list[str] = []

    async def record_budget(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers[BUDGET_HEADER])
        return httpx.Response(200)

    transport = DeadlineTransport(httpx.MockTransport(record_budget))
    async with httpx.AsyncClient(base_url=SERVICE, transport=transport) as http:
        with within_deadline(AlmostSpent(0.0)):
            await http.get("/widgets/w1")

    assert seen == ["1"]


async def test_outside_a_request_no_budget_is_sent_and_the_client_timeouts_hold(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    await svc.http.get("/widgets/w1")

    sent = route.calls.last.request
    assert BUDGET_HEADER not in sent.headers
    assert sent.extensions["timeout"] == FULL_TIMEOUTS


async def test_spent_deadline_is_504_without_a_request(svc: Svc, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with within_deadline(0.0), pytest.raises(UpstreamError) as raised:
        await svc.http.get("/widgets/w1")

    assert raised.value.status_code == 504
    assert not route.called
    # Not the service's doing: neither counted nor told to the breaker.
    assert svc.sample(CALLS, outcome="deadline") is None


async def test_deadline_cuts_a_slow_answer_short_with_504(svc: Svc, wire: respx.MockRouter) -> None:
    hanging = Held()
    wire.get(WIDGET_URL).mock(side_effect=hanging)
    started = time.monotonic()

    with within_deadline(0.2), pytest.raises(UpstreamError) as raised:
        async with asyncio.timeout(HANG_GUARD_S):
            await svc.http.get("/widgets/w1")

    assert raised.value.status_code == 504
    assert 0.15 < time.monotonic() - started < 1.0
    assert hanging.count == 1  # and not retried
    assert hanging.cancelled.is_set()


async def test_per_request_timeouts_are_capped_by_the_deadline(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with within_deadline(0.5):
        await svc.http.get("/widgets/w1")
        await svc.http.get("/widgets/w1", timeout=httpx.Timeout(0.1, connect=2.0))

    capped, explicit = (call.request.extensions["timeout"] for call in route.calls)
    assert capped.keys() == FULL_TIMEOUTS.keys()
    assert all(0.3 < limit <= 0.5 for limit in capped.values())
    # A timeout shorter than what is left stays; a longer one is cut to it.
    assert explicit["read"] == 0.1
    assert 0.3 < explicit["connect"] <= 0.5


async def test_unlimited_timeout_gets_what_is_left_of_the_deadline(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with within_deadline(0.5):
        await svc.http.get("/widgets/w1", timeout=None)

    limits = route.calls.last.request.extensions["timeout"]
    assert all(limit is not None and 0.3 < limit <= 0.5 for limit in limits.values())


async def test_per_request_read_timeout_bounds_the_whole_call(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=Held())  # never answers
    started = time.monotonic()

    with within_deadline(5.0), pytest.raises(UpstreamError) as raised:
        async with asyncio.timeout(HANG_GUARD_S):
            await svc.http.get("/widgets/w1", timeout=0.05)

    assert raised.value.status_code == 504
    assert time.monotonic() - started < 1.0


async def test_request_passes_the_chain_as_the_client_built_it(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.post(f"{SERVICE}/widgets").respond(201, json=WIDGET)

    await svc.http.post(
        "/widgets",
        params={"v": 2},
        content=b'{"size":5}',
        headers={"content-type": "application/json", "idempotency-key": "k1"},
    )

    sent = route.calls.last.request
    assert sent.url.params["v"] == "2"
    assert sent.content == b'{"size":5}'
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["idempotency-key"] == "k1"


async def test_circuits_show_each_upstreams_state_for_readyz(wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).respond(500)
    upstreams = Upstreams(
        BffSettings(breaker_failure_threshold=1), network=httpx.MockTransport(wire.async_handler)
    )
    failing = upstreams.add("svc", SERVICE)
    upstreams.add("other", "http://other.test")
    async with failing.open_client() as http:
        await http.get("/widgets/w1")

    assert upstreams.circuits() == {"circuit:svc": "open", "circuit:other": "closed"}


async def test_upstreams_share_one_registry_with_a_count_per_upstream(
    wire: respx.MockRouter,
) -> None:
    wire.get(WIDGET_URL).respond(json=WIDGET)
    wire.get("http://other.test/widgets/w1").respond(500)
    upstreams = Upstreams(BffSettings(), network=httpx.MockTransport(wire.async_handler))
    svc, other = upstreams.add("svc", SERVICE), upstreams.add("other", "http://other.test")
    async with svc.open_client() as svc_http, other.open_client() as other_http:
        await svc_http.get("/widgets/w1")
        await other_http.get("/widgets/w1")

    assert sample(upstreams.registry, CALLS, upstream="svc", outcome="ok") == 1.0
    assert sample(upstreams.registry, CALLS, upstream="svc", outcome="status_500") is None
    assert sample(upstreams.registry, CALLS, upstream="other", outcome="status_500") == 1.0


async def test_each_call_is_bounded_by_the_client_timeout_without_a_deadline(
    wire: respx.MockRouter,
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=Held())  # never answers
    async with open_svc(wire, BffSettings(request_budget_s=0.05)) as svc:
        with pytest.raises(UpstreamError) as raised:
            async with asyncio.timeout(HANG_GUARD_S):
                await svc.http.get("/widgets/w1")

    assert raised.value.status_code == 504


async def test_each_retry_tells_the_service_what_is_left_now(
    svc: Svc, wire: respx.MockRouter
) -> None:
    budgets: list[int] = []  # as each attempt sent it: the retry re-sends the same request

    async def slow_503_then_ok(request: httpx.Request) -> httpx.Response:
        budgets.append(int(request.headers[BUDGET_HEADER]))
        if len(budgets) == 1:
            await asyncio.sleep(0.2)
            return httpx.Response(503)
        return httpx.Response(200, json=WIDGET)

    wire.get(WIDGET_URL).mock(side_effect=slow_503_then_ok)

    with within_deadline(1.0):
        await svc.http.get("/widgets/w1")

    first, second = budgets
    assert first - second >= 150, budgets
