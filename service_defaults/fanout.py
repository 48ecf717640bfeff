"""A screen's upstream calls, run concurrently under one deadline.

Each call is a `Section`. A required section that fails fails the screen with
its own error (502, 503 or 504) and cancels the others at once. An optional
section whose service fails or runs out of time is left empty and named in the result's
`degraded` list, so the client can say "unavailable right now" for that part of
the page instead of showing nothing, or an error page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from service_defaults.deadlines import Deadline
from service_defaults.upstream import UpstreamError

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


class Section(Generic[T]):
    def __init__(self, name: str, call: Coroutine[Any, Any, T], *, required: bool = True) -> None:
        self.name = name
        self.required = required
        self._call = call
        self._done = False
        self._value: T | None = None
        self.error: BaseException | None = None

    async def _run(self) -> None:
        try:
            self._value = await self._call
            self._done = True
        except Exception as exc:
            self.error = exc
            # Only a failing service degrades a section. Anything else (the token
            # refused, a bug) is the whole request's answer, optional or not.
            if self.required or not isinstance(exc, UpstreamError):
                raise

    @property
    def value(self) -> T:
        """The result of a required section (fan_out raised if there was none)."""
        if not self._done:
            raise RuntimeError(f"section {self.name} has no value")
        return self._value  # type: ignore[return-value]  # set together with _done

    @property
    def value_or_none(self) -> T | None:
        """The result of an optional section, or None when it is degraded."""
        return self._value if self._done else None


async def fan_out(*sections: Section[Any], deadline: Deadline) -> list[str]:
    """Run every section concurrently; return the names of the degraded optional ones."""
    scope = asyncio.timeout(deadline.remaining())
    try:
        async with scope:
            try:
                async with asyncio.TaskGroup() as group:
                    for section in sections:
                        group.create_task(section._run())
            except* Exception as failures:
                # The first required failure is the answer; the other calls were cancelled.
                raise failures.exceptions[0] from None
    except TimeoutError:
        if not scope.expired():
            raise  # a section's own TimeoutError, not the deadline
        if any(section.required and not section._done for section in sections):
            raise UpstreamError(
                status_code=504, detail="The page's data did not arrive in time."
            ) from None
    finally:
        for section in sections:
            section._call.close()  # one cancelled before it started must not warn
    return [section.name for section in sections if not section._done and not section.required]
