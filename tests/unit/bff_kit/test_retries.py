"""`RetryTransport` and `RetryBudget`: which calls are sent again, how often, and at what cost."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx
import stamina
from prometheus_client import CollectorRegistry
from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

from bff_kit.answers import decode
from bff_kit.errors import UpstreamError
from bff_kit.metrics import UpstreamMetrics
from bff_kit.retries import RetryBudget, RetryTransport
from bff_kit.settings import BffSettings
from tests.unit.bff_kit.conftest import (
    CALLS,
    RETRIES,
    SERVICE,
    WIDGET,
    WIDGET_URL,
    Svc,
    Widget,
    open_svc,
)

OK = httpx.Response(200, json=WIDGET)


async def get_widget(svc: Svc) -> Widget:
    return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")


async def post_widget(svc: Svc) -> Widget:
    return decode(await svc.http.post("/widgets", json={"size": 5}), Widget, service="svc")


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("refused")


@pytest.fixture
def retrying(wire: respx.MockRouter) -> Callable[[RetryBudget], httpx.AsyncClient]:
    """A client whose transport is only the retries over the wire, with a budget of the test's."""

    def open_client(budget: RetryBudget) -> httpx.AsyncClient:
        transport = RetryTransport(
            httpx.MockTransport(wire.async_handler),
            name="svc",
            budget=budget,
            metrics=UpstreamMetrics(CollectorRegistry()),
        )
        return httpx.AsyncClient(base_url=SERVICE, transport=transport)

    return open_client


# Only idempotent methods, only after a failure on the way (not a timeout) or a 503


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no connection"),
        httpx.RemoteProtocolError("malformed status line"),
        httpx.ReadError("connection reset"),
    ],
    ids=["connect-error", "connect-timeout", "broken-answer", "reset"],
)
async def test_failure_on_the_way_is_retried_then_502(
    failure: httpx.TransportError, svc: Svc, wire: respx.MockRouter
) -> None:
    # httpx-aiohttp reports a refused connection as a ConnectTimeout.
    route = wire.get(WIDGET_URL).mock(side_effect=failure)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert route.call_count == 3


async def test_request_that_reaches_the_service_on_a_retry_gets_its_answer(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[refused(), refused(), OK])

    assert await get_widget(svc) == Widget(id="w1", size=3)
    assert route.call_count == 3


async def test_503_is_retried_and_the_next_answer_is_used(svc: Svc, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[httpx.Response(503), OK])

    assert await get_widget(svc) == Widget(id="w1", size=3)
    assert route.call_count == 2


async def test_503_on_every_attempt_answers_the_last_503(svc: Svc, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(503)

    response = await svc.http.get("/widgets/w1")

    assert response.status_code == 503
    assert route.call_count == 3


async def test_500_is_not_retried(svc: Svc, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(500)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow answer"), httpx.WriteTimeout("slow upload")],
    ids=["read-timeout", "write-timeout"],
)
async def test_timeout_is_504_and_not_retried(
    failure: httpx.TimeoutException, svc: Svc, wire: respx.MockRouter
) -> None:
    # The request may have arrived: sent again, it could be served twice.
    route = wire.get(WIDGET_URL).mock(side_effect=[failure, OK])

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 504
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.Response(503)], ids=["connect-error", "503"]
)
async def test_post_is_never_retried(
    failure: Exception | httpx.Response, svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.post(f"{SERVICE}/widgets").mock(side_effect=[failure, httpx.Response(201)])

    with pytest.raises(UpstreamError) as raised:
        await post_widget(svc)

    assert raised.value.status_code == 502
    assert route.call_count == 1
    assert svc.sample(RETRIES) is None


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_other_idempotent_methods_are_retried(
    method: str, svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.route(method=method, url=WIDGET_URL).mock(side_effect=[refused(), OK])

    response = await svc.http.request(method, "/widgets/w1")

    assert response.status_code == 200
    assert route.call_count == 2


# Metrics and pacing: one call is one count, however many attempts it took


async def test_retries_are_counted_apart_from_the_one_call(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=refused())

    with pytest.raises(UpstreamError):
        await get_widget(svc)

    assert route.call_count == 3
    # Three attempts are two retries and one call.
    assert svc.sample(RETRIES) == 2.0
    assert svc.sample(CALLS, outcome="unreachable") == 1.0


async def test_a_call_that_succeeds_on_a_retry_counts_once_as_ok(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=[httpx.Response(503), OK])

    await get_widget(svc)

    assert svc.sample(CALLS, outcome="ok") == 1.0
    assert svc.sample(CALLS, outcome="status_503") is None
    assert svc.sample(RETRIES) == 1.0


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """The backoff stamina waits before each retry it makes, with its test mode off."""
    waits: list[float] = []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    hooks = get_on_retry_hooks()
    set_on_retry_hooks([record])
    try:
        with stamina.set_testing(False):
            yield waits
    finally:
        set_on_retry_hooks(hooks)


async def test_first_retry_goes_at_once_and_the_next_one_backs_off(
    svc: Svc, wire: respx.MockRouter, retry_waits: list[float]
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=refused())

    with pytest.raises(UpstreamError):
        await get_widget(svc)

    assert route.call_count == 3
    # stamina makes both retries; only the second waits, the first went at once.
    assert len(retry_waits) == 1
    assert retry_waits[0] >= 0.02


# The retry budget


async def test_retry_budget_stops_retries_in_a_burst_of_failures(wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=refused())
    # A breaker that never opens, so only the budget (20% plus a floor of 3) limits the calls.
    async with open_svc(wire, BffSettings(breaker_failure_threshold=1_000)) as svc:
        for _ in range(20):
            with pytest.raises(UpstreamError):
                await get_widget(svc)

    # Without a budget, three attempts each would make 60 calls.
    assert 20 < route.call_count <= 20 + 3 + 20 * 0.2
    assert svc.sample(RETRIES) == route.call_count - 20


async def test_calls_earn_the_retry_budget_back(
    wire: respx.MockRouter, retrying: Callable[[RetryBudget], httpx.AsyncClient]
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[refused(), OK])
    async with retrying(RetryBudget(ratio=0.5, floor=0)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/widgets/w1")  # half a token: no retry
        assert route.call_count == 1
        await http.get("/widgets/w1")  # a whole token now
        route.mock(side_effect=[refused(), OK])

        response = await http.get("/widgets/w1")

    assert response.status_code == 200
    assert route.call_count == 2 + 2


async def test_post_spends_no_retry_budget(
    wire: respx.MockRouter, retrying: Callable[[RetryBudget], httpx.AsyncClient]
) -> None:
    wire.post(f"{SERVICE}/widgets").mock(side_effect=refused())
    route = wire.get(WIDGET_URL).mock(side_effect=[refused(), OK])
    async with retrying(RetryBudget(ratio=0.0, floor=1)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post("/widgets")  # never retried, so it must not spend the one token

        response = await http.get("/widgets/w1")

    assert response.status_code == 200
    assert route.call_count == 2


async def test_last_failed_attempt_spends_no_retry_budget(
    wire: respx.MockRouter, retrying: Callable[[RetryBudget], httpx.AsyncClient]
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=refused())
    async with retrying(RetryBudget(ratio=0.0, floor=3)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/widgets/w1")  # three attempts are two retries: one token is left
        assert route.call_count == 3
        route.mock(side_effect=[refused(), OK])

        response = await http.get("/widgets/w1")

    assert response.status_code == 200
    assert route.call_count == 3 + 2


async def test_a_spent_budget_answers_the_503_it_could_not_retry(
    wire: respx.MockRouter, retrying: Callable[[RetryBudget], httpx.AsyncClient]
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[httpx.Response(503), OK])
    async with retrying(RetryBudget(ratio=0.0, floor=0)) as http:
        response = await http.get("/widgets/w1")

    assert response.status_code == 503
    assert route.call_count == 1
