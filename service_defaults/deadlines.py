"""The time a request may still take: handed down by the edge, honoured by every later hop.

The edge writes `X-Request-Budget-Ms` on the way in; a BFF passes what is left of
it to each service it calls; a service stops work that could no longer be
delivered. `DeadlineMiddleware` reads the header once per request into the
request context, where outbound calls and database work find it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service_defaults.problems import send_problem

# Written by the edge: how many milliseconds it will wait for this request.
BUDGET_HEADER = "x-request-budget-ms"
_BUDGET_HEADER_BYTES = BUDGET_HEADER.encode()
# More digits than any sane budget: a longer value is ignored, never parsed.
_MAX_BUDGET_DIGITS = 7

_deadline: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], default_s: float) -> Deadline:
        """The edge's budget when it sent one, never more than our own default."""
        return cls(budget_s(headers.get(BUDGET_HEADER), default_s))

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def budget_s(value: str | bytes | None, default_s: float) -> float:
    """A well-formed budget header in seconds, capped by `default_s`; anything else is ignored.

    Only plain ASCII digits count: "1.5", "-5" or a latin-1 "²" are not budgets.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value or len(value) > _MAX_BUDGET_DIGITS or not (value.isascii() and value.isdigit()):
        return default_s
    return min(int(value) / 1000, default_s)


def current_deadline() -> Deadline | None:
    """The deadline of the request being handled, or None outside one."""
    return _deadline.get()


def stamp_budget(request: HasHeaders) -> None:
    """Tell the next hop how much of the current deadline is left, in milliseconds."""
    deadline = _deadline.get()
    if deadline is not None:
        request.headers[BUDGET_HEADER] = str(max(1, int(deadline.remaining() * 1000)))


class HasHeaders(Protocol):
    @property
    def headers(self) -> MutableMapping[str, str]: ...


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the current one for the code inside (the middleware, tests)."""
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


class DeadlineMiddleware:
    """Sets the request's deadline from the budget header, capped by `max_budget_s`.

    With `cut_off` (the services, the last hop) a request whose budget is already
    spent is answered 504 without running the handler, and a handler still
    running when the budget ends is cancelled (its database work with it) and
    answered 504. A BFF does not cut off: its screens answer at the deadline
    themselves, with the sections that arrived.
    """

    def __init__(self, app: ASGIApp, *, max_budget_s: float, cut_off: bool) -> None:
        self.app = app
        self._max_budget_s = max_budget_s
        self._cut_off = cut_off

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        value = next((v for k, v in scope["headers"] if k == _BUDGET_HEADER_BYTES), None)
        with deadline_scope(Deadline(budget_s(value, self._max_budget_s))) as deadline:
            if self._cut_off:
                await self._within(deadline, scope, receive, send)
            else:
                await self.app(scope, receive, send)

    async def _within(self, deadline: Deadline, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        detail = "The request's time budget ran out before it could be answered."
        if deadline.expired:
            await send_problem(send, 504, detail, instance=scope["path"])
            return
        budget = asyncio.timeout(deadline.remaining())
        try:
            async with budget:
                await self.app(scope, receive, send_tracked)
        except TimeoutError:
            if started or not budget.expired():
                raise  # half an answer cannot be taken back; the server closes the connection
            await send_problem(send, 504, detail, instance=scope["path"])
