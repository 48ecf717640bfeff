"""Running a screen's upstream calls concurrently, with structured cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


@overload
async def concurrently(a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B], /) -> tuple[A, B]: ...
@overload
async def concurrently(
    a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B], c: Coroutine[Any, Any, C], /
) -> tuple[A, B, C]: ...
async def concurrently(*calls: Coroutine[Any, Any, Any]) -> tuple[Any, ...]:
    """All results in order; on the first failure the other calls are cancelled and it is raised.

    The failure comes out unwrapped from the TaskGroup's ExceptionGroup, so that
    an HTTP error from one call renders as that error.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except* Exception as failures:
        raise failures.exceptions[0] from None
    return tuple(task.result() for task in tasks)
