"""`concurrently`: results in call order; the first failure raised bare, the rest cancelled."""

from __future__ import annotations

import asyncio

import pytest

from service_defaults.fanout import concurrently


async def test_results_come_back_in_call_order() -> None:
    first_may_finish = asyncio.Event()

    async def first() -> str:
        await first_may_finish.wait()
        return "first"

    async def second() -> int:
        first_may_finish.set()  # the second call finishes before the first
        return 2

    assert await concurrently(first(), second()) == ("first", 2)


async def test_three_calls_run_at_the_same_time() -> None:
    arrived = 0
    all_in = asyncio.Event()

    async def call(n: int) -> int:
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=1)
        return n

    assert await concurrently(call(1), call(2), call(3)) == (1, 2, 3)


async def test_first_failure_is_raised_unwrapped_and_the_other_call_is_cancelled() -> None:
    slow_started = asyncio.Event()
    slow_cancelled = asyncio.Event()

    async def slow() -> str:
        slow_started.set()
        try:
            await asyncio.Event().wait()  # never set: only cancellation ends it
        except asyncio.CancelledError:
            slow_cancelled.set()
            raise
        return "unreachable"

    async def failing() -> str:
        await slow_started.wait()
        raise LookupError("upstream said no")

    with pytest.raises(LookupError, match="upstream said no") as raised:
        await concurrently(slow(), failing())

    assert type(raised.value) is LookupError
    assert slow_cancelled.is_set()
