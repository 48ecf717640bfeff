"""`IdleConnections`: one timer closes the connections that waited for their client too long."""

from __future__ import annotations

import asyncio
import time

from edge.idle_connections import IdleConnections


class Waiting:
    """A connection that has waited since `since`, for at most `bound_s`."""

    def __init__(self, since: float, bound_s: float) -> None:
        self.since, self.bound_s = since, bound_s
        self.closed = False

    def close_if_idle(self, now: float) -> bool:
        if self.closed or now - self.since < self.bound_s:
            return False
        self.closed = True
        return True


async def test_a_sweep_closes_only_the_connections_past_their_bound() -> None:
    idle = IdleConnections()
    old, fresh = Waiting(since=0.0, bound_s=5.0), Waiting(since=4.0, bound_s=5.0)
    idle.add(old, 5.0)
    idle.add(fresh, 5.0)

    assert idle.sweep(now=6.0) == 1

    assert old.closed
    assert not fresh.closed
    idle.discard(old)
    idle.discard(fresh)


async def test_the_timer_sweeps_by_itself_while_connections_are_open() -> None:
    idle = IdleConnections()
    waiting = Waiting(since=time.monotonic(), bound_s=0.05)
    idle.add(waiting, 0.05)

    await asyncio.sleep(0.2)

    assert waiting.closed, "no sweep ran"
    idle.discard(waiting)


async def test_no_timer_is_left_once_the_last_connection_is_gone() -> None:
    idle = IdleConnections()
    waiting = Waiting(since=0.0, bound_s=5.0)
    idle.add(waiting, 5.0)
    assert idle.running

    idle.discard(waiting)

    assert not idle.running
