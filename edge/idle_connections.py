"""Closing connections that wait for the client too long, with one timer for all of them.

A connection waits for the client after each answer (keep-alive) and while a head
is still arriving. uvicorn armed and cancelled a timer per request for this; here
each connection only records since when it waits (`waiting_since`), and one timer
a second closes those past their bound: a connection closes between its bound and
a second after it. The timer runs only while some connection is open.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Protocol

SWEEP_EVERY_S = 1.0


class Waiting(Protocol):
    def close_if_idle(self, now: float) -> bool: ...


class IdleConnections:
    def __init__(self) -> None:
        self._open: set[Waiting] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._every_s = SWEEP_EVERY_S

    def add(self, connection: Waiting, bound_s: float) -> None:
        self._open.add(connection)
        # A bound shorter than a second is swept as often as it asks.
        self._every_s = min(self._every_s, max(bound_s / 2, 0.01))
        if self._timer is None:
            self._schedule()

    def discard(self, connection: Waiting) -> None:
        self._open.discard(connection)
        if not self._open and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def running(self) -> bool:
        """Whether the timer is set: only while some connection is open."""
        return self._timer is not None

    def sweep(self, now: float | None = None) -> int:
        """Close every connection past its bound; how many were closed."""
        now = monotonic() if now is None else now
        return sum(1 for connection in list(self._open) if connection.close_if_idle(now))

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self._every_s, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.sweep()
        if self._open:
            self._schedule()
