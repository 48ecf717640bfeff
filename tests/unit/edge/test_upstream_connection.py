"""`edge.upstream_connection`: the one timer for every wait's deadline, and an answer
taken whole when all of it has arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from time import monotonic

import pytest

from edge.upstream_client import UpstreamClient
from edge.upstream_connection import Deadlines, UpstreamTimeout
from tests.unit.edge.scripted_upstream import Pause, ScriptedUpstream, ok


@pytest.fixture
async def deadlines() -> AsyncIterator[Deadlines]:
    timer = Deadlines(asyncio.get_running_loop())
    yield timer
    timer.close()


def wait() -> asyncio.Future[None]:
    """A wait the deadlines can fail: what an exchange awaits for each part of its answer."""
    return asyncio.get_running_loop().create_future()


async def test_a_wait_past_its_deadline_fails_with_a_timeout_naming_what_never_came(
    deadlines: Deadlines,
) -> None:
    waiter = wait()

    deadlines.add(waiter, monotonic() + 0.02, "response")

    with pytest.raises(UpstreamTimeout, match="no response in time"):
        await asyncio.wait_for(waiter, 1.0)


async def test_a_wait_removed_in_time_is_never_failed_and_a_later_one_still_is(
    deadlines: Deadlines,
) -> None:
    answered, late = wait(), wait()
    deadlines.add(answered, monotonic() + 0.02, "response")
    deadlines.add(late, monotonic() + 0.05, "response body")

    deadlines.remove(answered)
    with pytest.raises(UpstreamTimeout):
        await asyncio.wait_for(late, 1.0)

    assert not answered.done()


async def test_an_earlier_deadline_moves_the_one_timer_forward(deadlines: Deadlines) -> None:
    far, near = wait(), wait()
    deadlines.add(far, monotonic() + 30.0, "response")

    deadlines.add(near, monotonic() + 0.02, "response")

    with pytest.raises(UpstreamTimeout):
        await asyncio.wait_for(near, 1.0)
    assert not far.done(), "its deadline is still far"


async def test_an_answer_here_whole_is_taken_at_once_and_its_connection_reused(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"whole"))
    upstream.answer(ok(b"again"))

    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2.0)
    await asyncio.sleep(0.05)  # the body follows its head in the same segment, or just after

    assert response.whole_body() == b"whole"
    second = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2.0)
    await asyncio.sleep(0.05)
    assert second.whole_body() == b"again"
    assert len(upstream.connections) == 1, "released by whole_body: back in the pool"


async def test_an_answer_still_arriving_is_not_taken_whole_but_streamed(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc", Pause(0.1), b"def")

    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2.0)

    assert response.whole_body() is None
    assert b"".join([chunk async for chunk in response.chunks()]) == b"abcdef"
