"""Deadlines: the edge's `X-Request-Budget-Ms`, set per request by `DeadlineMiddleware`."""

# No `from __future__ import annotations`: litestar reads the handlers' annotations at runtime.
import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import pytest
from litestar import Litestar, get
from litestar.params import FromQuery
from litestar.response import Stream
from litestar.testing import AsyncTestClient
from litestar.types import HTTPRequestEvent, Message, Receive, Scope, Send

from service_defaults.app import DeadlinePolicy, create_service_app
from service_defaults.deadlines import (
    BUDGET_HEADER,
    Deadline,
    DeadlineMiddleware,
    budget_s,
    current_deadline,
)
from service_defaults.problems import PROBLEM_JSON

Client = AsyncTestClient[Litestar]
# A handler below sleeps this long unless cut off: a deadline that failed to cut it
# off shows as a slow test and a wrong answer, not a hung one.
HANG_GUARD_S = 2.0


# `Deadline` and `budget_s`: reading the header


def test_edge_budget_is_used_when_smaller_than_the_default() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "250"}, default_s=5.0)

    assert 0.2 < deadline.remaining() <= 0.25


def test_edge_budget_never_exceeds_the_default() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "60000"}, default_s=2.0)

    assert 1.9 < deadline.remaining() <= 2.0


def test_missing_budget_falls_back_to_the_default() -> None:
    assert 2.9 < Deadline.from_headers({}, default_s=3.0).remaining() <= 3.0


def test_zero_budget_is_already_expired() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "0"}, default_s=3.0)

    assert deadline.expired
    assert deadline.remaining() == 0.0


def test_remaining_time_never_goes_negative() -> None:
    assert Deadline(-1.0).remaining() == 0.0


@pytest.mark.parametrize("value", ["250", b"250"], ids=["str", "bytes"])
def test_budget_is_milliseconds_read_as_seconds(value: str | bytes) -> None:
    assert budget_s(value, default_s=5.0) == 0.25


def test_budget_is_capped_by_the_default() -> None:
    assert budget_s("60000", default_s=2.0) == 2.0


# "²" is what a raw 0xB2 byte decodes to (headers are latin-1): a digit to
# str.isdigit, not to int(); fullwidth digits are digits to both, and still no budget.
@pytest.mark.parametrize(
    "value",
    [None, "", b"", "soon", "-5", "1.5", " 100", "100 ", "²", b"\xb2", "\uff11\uff10\uff10"],
    ids=repr,
)
def test_unusable_budget_falls_back_to_the_default(value: str | bytes | None) -> None:
    assert budget_s(value, default_s=3.0) == 3.0


def test_budget_of_seven_digits_is_read() -> None:
    assert budget_s("0000250", default_s=5.0) == 0.25
    assert budget_s("9999999", default_s=20_000.0) == 9999.999


@pytest.mark.parametrize("value", ["00000250", "12345678", "9" * 5000])
def test_budget_longer_than_seven_digits_is_ignored_whatever_its_value(value: str) -> None:
    assert budget_s(value, default_s=3.0) == 3.0


def test_no_deadline_outside_a_request() -> None:
    assert current_deadline() is None


# `DeadlineMiddleware`, as `create_service_app(deadline=...)` installs it


@dataclass
class Seen:
    """What the app's handlers did, for the test to read after the request."""

    called: int = 0
    finished: bool = False
    cancelled: bool = False


def create_app(seen: Seen, *, cut_off: bool, max_budget_s: float = 5.0) -> Litestar:
    @get("/deadline", sync_to_thread=False)
    def deadline() -> dict[str, float | None]:
        seen.called += 1
        current = current_deadline()
        return {"remaining": current.remaining() if current is not None else None}

    @get("/slow")
    async def slow(wait_s: FromQuery[float] = HANG_GUARD_S) -> str:
        seen.called += 1
        try:
            await asyncio.sleep(wait_s)
        except asyncio.CancelledError:
            seen.cancelled = True
            raise
        seen.finished = True
        return "finished"

    @get("/own-timeout")
    async def own_timeout() -> str:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(HANG_GUARD_S)  # a timeout of the handler's own, unhandled
        return "unreachable"

    @get("/stream")
    async def stream() -> Stream:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first part"
            await asyncio.sleep(HANG_GUARD_S)
            yield b"never sent"

        return Stream(chunks())

    return create_service_app(
        title="deadlines",
        route_handlers=[deadline, slow, own_timeout, stream],
        deadline=DeadlinePolicy(max_budget_s=max_budget_s, cut_off=cut_off),
    )


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
async def service(seen: Seen) -> AsyncIterator[Client]:
    """An app that cuts off at the deadline, as every service does."""
    async with AsyncTestClient(app=create_app(seen, cut_off=True)) as client:
        yield client


@pytest.fixture
async def bff(seen: Seen) -> AsyncIterator[Client]:
    """An app that only reads the deadline, as a BFF does."""
    async with AsyncTestClient(app=create_app(seen, cut_off=False)) as client:
        yield client


async def test_handler_sees_the_request_deadline(service: Client) -> None:
    response = await service.get("/deadline", headers={BUDGET_HEADER: "250"})

    assert 0.1 < response.json()["remaining"] <= 0.25


async def test_deadline_without_a_budget_header_is_the_apps_own(seen: Seen) -> None:
    async with AsyncTestClient(app=create_app(seen, cut_off=True, max_budget_s=1.5)) as client:
        plain = await client.get("/deadline")
        generous = await client.get("/deadline", headers={BUDGET_HEADER: "60000"})

    assert 1.2 < plain.json()["remaining"] <= 1.5
    assert 1.2 < generous.json()["remaining"] <= 1.5


async def test_spent_budget_is_504_problem_without_calling_the_handler(
    service: Client, seen: Seen
) -> None:
    response = await service.get("/slow", headers={BUDGET_HEADER: "0"})

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 504
    assert problem["instance"] == "/slow"
    assert seen.called == 0


async def test_handler_still_running_at_the_budget_is_cancelled_with_504(
    service: Client, seen: Seen
) -> None:
    started = time.monotonic()

    response = await service.get("/slow", headers={BUDGET_HEADER: "50"})

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM_JSON
    assert time.monotonic() - started < 1.0
    assert seen.cancelled
    assert not seen.finished


async def test_handler_that_answers_within_the_budget_is_not_cut_off(
    service: Client, seen: Seen
) -> None:
    response = await service.get("/slow?wait_s=0.01", headers={BUDGET_HEADER: "1000"})

    assert response.status_code == 200
    assert response.text == "finished"


async def test_handlers_own_timeout_error_is_500_not_504(service: Client) -> None:
    response = await service.get("/own-timeout", headers={BUDGET_HEADER: "5000"})

    assert response.status_code == 500


async def test_timeout_error_escaping_the_app_before_the_budget_is_not_turned_into_504() -> None:
    # Litestar answers its handlers' errors itself; a raw ASGI app (the edge's proxy
    # sits there) lets one through to the middleware.
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise TimeoutError("the app's own")

    async def receive() -> HTTPRequestEvent:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = DeadlineMiddleware(app, max_budget_s=5.0, cut_off=True)
    scope = cast("Scope", {"type": "http", "path": "/", "headers": []})

    with pytest.raises(TimeoutError, match="the app's own"):
        await middleware(scope, receive, send)

    assert sent == []


async def test_answer_already_started_at_the_budget_is_not_replaced_by_a_504(
    service: Client,
) -> None:
    # Half an answer cannot be taken back: the error reaches the server, which
    # closes the connection.
    with pytest.raises(TimeoutError):
        await service.get("/stream", headers={BUDGET_HEADER: "50"})


async def test_without_cut_off_a_spent_budget_still_reaches_the_handler(
    bff: Client, seen: Seen
) -> None:
    response = await bff.get("/deadline", headers={BUDGET_HEADER: "0"})

    assert response.status_code == 200
    assert response.json() == {"remaining": 0.0}
    assert seen.called == 1


async def test_without_cut_off_a_handler_may_run_past_the_budget(bff: Client, seen: Seen) -> None:
    response = await bff.get("/slow?wait_s=0.1", headers={BUDGET_HEADER: "20"})

    assert response.status_code == 200
    assert response.text == "finished"
    assert not seen.cancelled


async def test_app_without_a_deadline_policy_sets_no_deadline() -> None:
    @get("/deadline", sync_to_thread=False)
    def deadline() -> dict[str, bool]:
        return {"set": current_deadline() is not None}

    app = create_service_app(title="no deadlines", route_handlers=[deadline])
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/deadline", headers={BUDGET_HEADER: "250"})

    assert response.json() == {"set": False}
