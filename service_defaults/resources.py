"""`Resources`: what an app opens at start-up, closes at shutdown, and hands its handlers typed.

Every deployable's `create_app` describes its clients, engines and key rings as
one async context manager, and wraps it in `Resources`. The app's lifespan
enters it; handlers receive its parts through `provide`, so mypy sees every
type and no handler reads `app.state`. An app that is built and never started
has opened nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Generic, TypeVar

from litestar import Litestar
from litestar.di import Provide

R = TypeVar("R")
T = TypeVar("T")


class NotStarted(RuntimeError):
    """A handler or check asked for resources before the lifespan opened them."""


class Resources(Generic[R]):
    def __init__(self, open_resources: Callable[[], AbstractAsyncContextManager[R]]) -> None:
        self._open = open_resources
        self._opened: R | None = None

    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncIterator[None]:
        async with self._open() as opened:
            self._opened = opened
            try:
                yield
            finally:
                self._opened = None

    def get(self) -> R:
        if self._opened is None:
            raise NotStarted("the app's resources are opened by its lifespan; start the app first")
        return self._opened

    @property
    def started(self) -> bool:
        return self._opened is not None

    def provide(self, pick: Callable[[R], T]) -> Provide:
        """A litestar dependency returning one part of the opened resources."""

        def dependency() -> T:
            return pick(self.get())

        return Provide(dependency, sync_to_thread=False)
