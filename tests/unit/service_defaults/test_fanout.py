"""`fan_out`: sections run together under a deadline; optional ones degrade, required ones fail."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar.exceptions import NotAuthorizedException

from service_defaults.deadlines import Deadline
from service_defaults.fanout import Section, fan_out
from service_defaults.upstream import UpstreamError

# Sections below hang until cancelled: were fan_out to stop cancelling them, the
# tests fail after this long instead of hanging.
HANG_GUARD_S = 2.0


async def guarded_fan_out(*sections: Section[Any], deadline: Deadline) -> list[str]:
    async with asyncio.timeout(HANG_GUARD_S):
        return await fan_out(*sections, deadline=deadline)


async def answer(value: str) -> str:
    return value


async def fail(status: int = 502) -> str:
    raise UpstreamError(status_code=status, detail="the service failed")


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


async def test_results_come_back_in_section_order() -> None:
    first_may_finish = asyncio.Event()

    async def first() -> str:
        await first_may_finish.wait()
        return "first"

    async def second() -> int:
        first_may_finish.set()  # the second call finishes before the first
        return 2

    a, b = Section("a", first()), Section("b", second())

    degraded = await guarded_fan_out(a, b, deadline=Deadline(5.0))

    assert (a.value, b.value) == ("first", 2)
    assert degraded == []


async def test_sections_run_at_the_same_time() -> None:
    arrived = 0
    all_in = asyncio.Event()

    async def call(n: int) -> int:
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=1)
        return n

    sections = [Section("one", call(1)), Section("two", call(2), required=False)]
    sections.append(Section("three", call(3), required=False))

    assert await guarded_fan_out(*sections, deadline=Deadline(5.0)) == []
    assert [s.value for s in sections] == [1, 2, 3]


async def test_failed_optional_section_is_degraded_and_empty() -> None:
    profile = Section("profile", answer("alice"))
    orders = Section("orders", fail(503), required=False)
    stats = Section("stats", answer("7 orders"), required=False)

    degraded = await guarded_fan_out(profile, orders, stats, deadline=Deadline(5.0))

    assert degraded == ["orders"]
    assert orders.value_or_none is None
    assert isinstance(orders.error, UpstreamError)
    assert profile.value == "alice"
    assert stats.value_or_none == "7 orders"


async def test_degraded_section_has_no_value() -> None:
    orders = Section("orders", fail(), required=False)
    await guarded_fan_out(orders, deadline=Deadline(5.0))

    with pytest.raises(RuntimeError, match="orders"):
        _ = orders.value


async def test_required_failure_is_raised_bare_and_cancels_the_other_sections() -> None:
    slow = Hanging()

    async def failing_once_slow_started() -> str:
        await slow.started.wait()
        raise UpstreamError(status_code=503, detail="users is failing")

    with pytest.raises(UpstreamError) as raised:
        await guarded_fan_out(
            Section("profile", failing_once_slow_started()),
            Section("orders", slow(), required=False),
            deadline=Deadline(5.0),
        )

    assert type(raised.value) is UpstreamError  # not an ExceptionGroup
    assert raised.value.status_code == 503
    assert slow.cancelled.is_set()


async def test_deadline_expiry_degrades_a_slow_optional_section() -> None:
    slow = Hanging()
    profile = Section("profile", answer("alice"))
    orders = Section("orders", slow(), required=False)
    started = time.monotonic()

    degraded = await guarded_fan_out(profile, orders, deadline=Deadline(0.05))

    assert degraded == ["orders"]
    assert orders.value_or_none is None
    assert profile.value == "alice"
    assert slow.cancelled.is_set()
    assert time.monotonic() - started < 1.0


async def test_deadline_expiry_with_a_slow_required_section_is_504() -> None:
    slow = Hanging()

    with pytest.raises(UpstreamError) as raised:
        await guarded_fan_out(
            Section("profile", slow()),
            Section("orders", answer("[]"), required=False),
            deadline=Deadline(0.05),
        )

    assert raised.value.status_code == 504
    assert slow.cancelled.is_set()


async def test_refused_token_in_an_optional_section_fails_the_request() -> None:
    async def refused() -> str:
        raise NotAuthorizedException("token expired")

    with pytest.raises(NotAuthorizedException):
        await guarded_fan_out(
            Section("profile", answer("alice")),
            Section("orders", refused(), required=False),
            deadline=Deadline(5.0),
        )


async def test_bug_in_an_optional_section_fails_the_request() -> None:
    async def broken() -> str:
        raise KeyError("items")

    with pytest.raises(KeyError):
        await guarded_fan_out(
            Section("profile", answer("alice")),
            Section("orders", broken(), required=False),
            deadline=Deadline(5.0),
        )


async def test_timeout_error_raised_by_a_section_is_not_taken_for_the_deadline() -> None:
    # fan_out's own deadline is far off: this TimeoutError is the section's bug, not a
    # slow service, and an optional section only degrades on an UpstreamError.
    async def times_out_inside() -> str:
        raise TimeoutError("a timeout the section did not handle")

    with pytest.raises(TimeoutError, match="did not handle"):
        await fan_out(
            Section("profile", answer("alice")),
            Section("orders", times_out_inside(), required=False),
            deadline=Deadline(5.0),
        )


async def test_spent_deadline_is_504_at_once() -> None:
    slow = Hanging()
    started = time.monotonic()

    with pytest.raises(UpstreamError) as raised:
        await guarded_fan_out(Section("profile", slow()), deadline=Deadline(0.0))

    assert raised.value.status_code == 504
    assert time.monotonic() - started < 1.0
