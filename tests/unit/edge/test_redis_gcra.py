"""`edge.redis_gcra`: the decisions of one event-loop tick go to Redis as one script call."""

from __future__ import annotations

import asyncio

import pytest

from edge.redis_connection import RedisConnection, parse_redis_url
from edge.redis_gcra import (
    GCRA_SCRIPT_BYTES,
    GCRA_SHA1,
    MAX_BATCH,
    GcraBatches,
    UnexpectedReply,
)
from tests.unit.edge.fake_redis import (
    FakeRedis,
    error,
    fake_redis,
    forgets_its_scripts,
    integers,
)


def numbered(command: list[bytes]) -> bytes:
    """Each key's answer names its place in the call: (1, place, place * 10)."""
    if command[0] not in (b"EVALSHA", b"EVAL"):
        return b"+OK\r\n"
    keys = int(command[2])
    return integers(*(n for place in range(keys) for n in (1, place, place * 10)))


class Batches:
    """`GcraBatches` on one connection to a fake Redis, reopened as the limiter would."""

    def __init__(self, server: FakeRedis) -> None:
        self.connection: RedisConnection | None = None
        self._address = parse_redis_url(server.url)
        self.batches = GcraBatches(self._connect)

    def _connect(self) -> RedisConnection:
        if self.connection is None or self.connection.closed:
            self.connection = RedisConnection(self._address, 1.0)
        return self.connection

    async def close(self) -> None:
        self.batches.close()
        if self.connection is not None:
            await self.connection.close()


async def test_the_decisions_of_one_tick_are_one_call_and_each_gets_its_own_answer() -> None:
    async with fake_redis(numbered) as server:
        batches = Batches(server)
        try:
            answers = await asyncio.gather(
                batches.batches.decide(b"k:a", 1000, 4),
                batches.batches.decide(b"k:b", 2000, 5),
                batches.batches.decide(b"k:a", 1000, 4),
            )
        finally:
            await batches.close()

    keys = [b"k:a", b"k:b", b"k:a"]
    arguments = [b"1000", b"4", b"2000", b"5", b"1000", b"4"]
    assert server.commands == [[b"EVALSHA", GCRA_SHA1, b"3", *keys, *arguments]]
    assert list(answers) == [(1, 0, 0), (1, 1, 10), (1, 2, 20)]


async def test_decisions_in_later_ticks_go_in_later_calls() -> None:
    async with fake_redis(numbered) as server:
        batches = Batches(server)
        try:
            first = await batches.batches.decide(b"k:a", 1000, 4)
            second = await batches.batches.decide(b"k:a", 1000, 4)
        finally:
            await batches.close()

    assert [command[2] for command in server.commands] == [b"1", b"1"]
    assert first == second == (1, 0, 0)


async def test_a_tick_with_more_than_a_batch_of_decisions_is_split() -> None:
    count = 2 * MAX_BATCH + 1
    async with fake_redis(numbered) as server:
        batches = Batches(server)
        try:
            answers = await asyncio.gather(
                *(batches.batches.decide(b"k:%d" % i, 1000, 4) for i in range(count))
            )
        finally:
            await batches.close()

    assert [int(command[2]) for command in server.commands] == [MAX_BATCH, MAX_BATCH, 1]
    assert [place for _, place, _ in answers] == [*range(MAX_BATCH), *range(MAX_BATCH), 0]


async def test_a_cancelled_decision_leaves_the_rest_of_its_batch_answered() -> None:
    async with fake_redis(numbered) as server:
        batches = Batches(server)
        try:
            given_up = asyncio.ensure_future(batches.batches.decide(b"k:a", 1000, 4))
            kept = asyncio.ensure_future(batches.batches.decide(b"k:b", 1000, 4))
            await asyncio.sleep(0)  # both have joined the batch
            given_up.cancel()
            answer = await kept
        finally:
            await batches.close()

    assert given_up.cancelled()
    assert answer == (1, 1, 10)


async def test_a_flushed_script_is_sent_whole_with_the_same_keys_and_arguments() -> None:
    async with fake_redis(forgets_its_scripts(numbered)) as server:
        batches = Batches(server)
        try:
            answers = await asyncio.gather(
                batches.batches.decide(b"k:a", 1000, 4), batches.batches.decide(b"k:b", 2000, 5)
            )
        finally:
            await batches.close()

    evalsha, eval_ = server.commands
    assert evalsha[:2] == [b"EVALSHA", GCRA_SHA1]
    assert eval_[:2] == [b"EVAL", GCRA_SCRIPT_BYTES]
    assert eval_[2:] == evalsha[2:]
    assert list(answers) == [(1, 0, 0), (1, 1, 10)]


@pytest.mark.parametrize(
    "reply",
    [integers(1, 0, 0), integers(1, 0, 0, 1, 0), error("BUSY Redis is busy running a script")],
    ids=["one-answer-for-two", "five-integers", "error"],
)
async def test_a_reply_that_does_not_answer_every_key_fails_the_whole_batch(reply: bytes) -> None:
    async with fake_redis(lambda command: reply) as server:
        batches = Batches(server)
        try:
            outcomes = await asyncio.gather(
                batches.batches.decide(b"k:a", 1000, 4),
                batches.batches.decide(b"k:b", 1000, 4),
                return_exceptions=True,
            )
        finally:
            await batches.close()

    assert all(isinstance(outcome, UnexpectedReply) for outcome in outcomes)


async def test_a_lost_connection_fails_its_batch_and_the_next_batch_reconnects() -> None:
    def hang_up_once(command: list[bytes]) -> bytes:
        return b"close" if server.connections == 1 else numbered(command)

    async with fake_redis(hang_up_once) as server:
        batches = Batches(server)
        try:
            lost = await asyncio.gather(
                batches.batches.decide(b"k:a", 1000, 4), return_exceptions=True
            )
            again = await batches.batches.decide(b"k:a", 1000, 4)
        finally:
            await batches.close()

    assert isinstance(lost[0], ConnectionError)
    assert again == (1, 0, 0)
    assert server.connections == 2


async def test_after_close_a_decision_fails_without_reaching_redis() -> None:
    async with fake_redis(numbered) as server:
        batches = Batches(server)
        await batches.close()
        with pytest.raises(ConnectionError, match="closed"):
            await batches.batches.decide(b"k:a", 1000, 4)

    assert server.commands == []
