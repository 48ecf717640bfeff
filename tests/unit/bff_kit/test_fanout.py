"""`Screen`: a screen's calls run together; optional ones degrade, required ones fail it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import respx
from litestar.exceptions import NotAuthorizedException

from bff_kit.answers import decode
from bff_kit.errors import UpstreamError
from bff_kit.fanout import Screen
from tests.unit.bff_kit.conftest import (
    HANG_GUARD_S,
    WIDGET,
    WIDGET_URL,
    Held,
    Svc,
    Widget,
    within_deadline,
)
from tests.unit.fake_services import Rendezvous


@asynccontextmanager
async def guarded_screen() -> AsyncIterator[Screen]:
    """A Screen that fails the test, rather than hanging it, should it stop cancelling."""
    async with asyncio.timeout(HANG_GUARD_S), Screen() as screen:
        yield screen


async def answer(value: str) -> str:
    return value


async def fail(status: int = 502) -> str:
    raise UpstreamError(status_code=status, detail="the service failed")


async def get_widget(svc: Svc) -> Widget:
    return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")


class Hanging:
    """A call that only cancellation ends; records that it started and that it was cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()  # never set
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "unreachable"


async def test_results_come_back_in_declaration_order() -> None:
    first_may_finish = asyncio.Event()

    async def first() -> str:
        await first_may_finish.wait()
        return "first"

    async def second() -> int:
        first_may_finish.set()  # the second call finishes before the first
        return 2

    async with guarded_screen() as screen:
        a = screen.required(first())
        b = screen.optional("b", second())

    assert (a.result(), b.result()) == ("first", 2)
    assert screen.degraded == []


async def test_sections_call_their_services_at_the_same_time(
    svc: Svc, wire: respx.MockRouter
) -> None:
    # Answered only once all three calls are in flight: one at a time, they would fail.
    wire.get(WIDGET_URL).mock(side_effect=Rendezvous(3, timeout_s=1.0).answering(WIDGET))

    async with guarded_screen() as screen:
        one = screen.required(get_widget(svc))
        two = screen.optional("two", get_widget(svc))
        three = screen.optional("three", get_widget(svc))

    assert [one.result(), two.result(), three.result()] == [Widget(id="w1", size=3)] * 3
    assert screen.degraded == []


async def test_failed_optional_section_is_degraded_and_none() -> None:
    async with guarded_screen() as screen:
        profile = screen.required(answer("alice"))
        orders = screen.optional("orders", fail(503))
        stats = screen.optional("stats", answer("7 orders"))

    assert screen.degraded == ["orders"]
    assert orders.result() is None
    assert profile.result() == "alice"
    assert stats.result() == "7 orders"


async def test_degraded_names_failed_sections_in_declaration_order() -> None:
    stats_failed = asyncio.Event()

    async def orders_fail_after_stats() -> str:
        await stats_failed.wait()
        raise UpstreamError(detail="orders failed")

    async def stats_fail() -> str:
        stats_failed.set()
        raise UpstreamError(detail="stats failed")

    async with guarded_screen() as screen:
        screen.optional("orders", orders_fail_after_stats())
        screen.optional("tips", answer("drink water"))
        screen.optional("stats", stats_fail())

    assert screen.degraded == ["orders", "stats"]


async def test_required_failure_is_raised_bare_and_cancels_the_other_sections() -> None:
    slow = Hanging()

    async def failing_once_slow_started() -> str:
        await slow.started.wait()
        raise UpstreamError(status_code=503, detail="users is failing")

    with pytest.raises(UpstreamError) as raised:
        async with guarded_screen() as screen:
            screen.required(failing_once_slow_started())
            screen.optional("orders", slow())

    assert type(raised.value) is UpstreamError  # not an ExceptionGroup
    assert raised.value.status_code == 503
    assert slow.cancelled.is_set()


async def test_refused_token_in_an_optional_section_fails_the_request() -> None:
    slow = Hanging()

    async def refused() -> str:
        await slow.started.wait()
        raise NotAuthorizedException("token expired")

    with pytest.raises(NotAuthorizedException, match="token expired"):
        async with guarded_screen() as screen:
            screen.required(slow())
            screen.optional("orders", refused())

    assert slow.cancelled.is_set()


async def test_bug_in_an_optional_section_fails_the_request() -> None:
    async def broken() -> str:
        raise KeyError("items")

    with pytest.raises(KeyError, match="items"):
        async with guarded_screen() as screen:
            screen.required(answer("alice"))
            screen.optional("orders", broken())


async def test_timeout_error_raised_by_a_section_is_not_swallowed() -> None:
    # Only a service's failure (an UpstreamError, a 504 included) degrades a section:
    # this TimeoutError is the section's own bug.
    async def times_out_inside() -> str:
        raise TimeoutError("a timeout the section did not handle")

    with pytest.raises(TimeoutError, match="did not handle"):
        async with Screen() as screen:
            screen.required(answer("alice"))
            screen.optional("orders", times_out_inside())


# The deadline, applied by each call's transport


async def test_deadline_degrades_a_slow_optional_section_and_the_screen_answers(
    svc: Svc, wire: respx.MockRouter
) -> None:
    hanging = Held()
    wire.get(WIDGET_URL).mock(side_effect=hanging)
    started = time.monotonic()

    with within_deadline(0.05):
        async with guarded_screen() as screen:
            profile = screen.required(answer("alice"))
            widget = screen.optional("widget", get_widget(svc))

    assert time.monotonic() - started < 1.0
    assert screen.degraded == ["widget"]
    assert widget.result() is None
    assert profile.result() == "alice"
    assert hanging.cancelled.is_set()


async def test_deadline_with_a_slow_required_section_is_504(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=Held())
    stats = Hanging()

    with within_deadline(0.05), pytest.raises(UpstreamError) as raised:
        async with guarded_screen() as screen:
            screen.required(get_widget(svc))
            screen.optional("stats", stats())

    assert raised.value.status_code == 504
    assert stats.cancelled.is_set()


async def test_spent_deadline_fails_the_screen_with_504_at_once(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with within_deadline(0.0), pytest.raises(UpstreamError) as raised:
        async with guarded_screen() as screen:
            screen.required(get_widget(svc))

    assert raised.value.status_code == 504
    assert not route.called
