"""The calls behind one screen, started together in a TaskGroup and awaited together.

    async with Screen() as screen:
        profile = screen.required(users.me())
        stats = screen.optional("stats", orders.stats())
    Dashboard(profile=profile.result(), stats=stats.result(), degraded=screen.degraded)

A required call that fails fails the screen with its own error (502, 503 or 504)
and the TaskGroup cancels the others at once. An optional call whose service
fails or runs out of time gives None and is named in `degraded`, so the client
can say "unavailable right now" for that part of the page. Every call is bounded
by the request's deadline in its own transport, so the screen answers by then.

The calls go out in the order the screen names them, each some tenths of a
millisecond of the BFF's CPU after the one before: name the slowest call first,
and the others' sending costs the screen nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from bff_kit.errors import UpstreamError
from service_defaults.server_spans import annotate_request

T = TypeVar("T")
# Names the degraded sections of an answer, for clients that read headers first.
DEGRADED_HEADER = "X-Degraded"


class Screen:
    def __init__(self) -> None:
        self._group = asyncio.TaskGroup()
        self._optional: list[str] = []
        self._failed: set[str] = set()

    @property
    def degraded(self) -> list[str]:
        """The optional sections that failed, in the order the screen named them."""
        return [name for name in self._optional if name in self._failed]

    def degraded_headers(self) -> dict[str, str]:
        """`X-Degraded: recent_orders, stats` when sections are missing, else nothing."""
        return {DEGRADED_HEADER: ", ".join(self.degraded)} if self.degraded else {}

    async def __aenter__(self) -> Screen:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as failures:
            # The first failure is the answer; the TaskGroup cancelled the rest.
            raise failures.exceptions[0] from None
        if self._failed:
            # On the request's span: the trace shows which parts of the page are missing.
            annotate_request({"frontdoor.degraded_sections": self.degraded})

    def required(self, call: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        return self._group.create_task(call)

    def optional(self, name: str, call: Coroutine[Any, Any, T]) -> asyncio.Task[T | None]:
        self._optional.append(name)
        return self._group.create_task(self._degradable(name, call))

    async def _degradable(self, name: str, call: Coroutine[Any, Any, T]) -> T | None:
        try:
            return await call
        except UpstreamError:
            # Only a failing service degrades a section. Anything else (the token
            # refused, a bug) is the whole request's answer, optional or not.
            self._failed.add(name)
            return None
