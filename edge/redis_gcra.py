"""GCRA in Redis: the script, and the batches that run it, one script call per event-loop tick.

Every decision asked for during one tick of the event loop joins one batch, sent
once the tick is over as one EVALSHA with a key (and an interval and a limit) per
decision. Redis runs a script whole before anything else, and this one decides its
keys one after another, so limits stay exact: a key named twice in a batch is
counted twice, the second time after the first.

Why batch: per decision, on the same pipelined connection, 16 decisions at a time
(medians of 7 rounds, two runs each), the edge spent 8.1-9.5 µs of CPU instead of
12.0-12.7 with one EVALSHA per decision (the in-memory limiter: about 2), and Redis
9.3-10.6 µs instead of 11.0 (its own `commandstats`); Redis also runs about 2.3
commands per decision instead of 4. At 32 connections a batch holds 7 to 8
decisions; a lone request's decision is a batch of one, and leaves when it did
before: in the loop iteration after it was asked for. Under `make bench-edge`'s
whole load the gain stays inside the noise of a shared 2-core VM (20 interleaved
rounds: 136 against 137 µs per request).

Not for Redis Cluster, which the limiter does not support: the keys of one batch may
belong to different slots, and the connection follows no redirects.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from functools import partial

import hiredis

from edge.redis_connection import RedisConnection, Reply, encode_command

# KEYS: one per decision; ARGV: two integers per key, its policy's interval in
# microseconds and its limit. Returns three integers per key, in order: allowed
# (1 or 0), the new or kept TAT - now, and the wait; all relative to Redis's
# clock, so edge processes with skewed clocks still agree.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local limit = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - limit * interval
  local n = #out
  if now < allow_at then
    out[n + 1], out[n + 2], out[n + 3] = 0, tat - now, allow_at - now
  else
    redis.call('SET', key, new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
    out[n + 1], out[n + 2], out[n + 3] = 1, new_tat - now, 0
  end
end
return out
"""
GCRA_SCRIPT_BYTES = GCRA_SCRIPT.encode()
# The name Redis files the script under (EVALSHA), not a security measure.
GCRA_SHA1 = hashlib.sha1(GCRA_SCRIPT_BYTES, usedforsecurity=False).hexdigest().encode()

# Decisions per script call; more in one tick go in the next call. It bounds how
# long Redis runs one script, during which it answers nobody else.
MAX_BATCH = 64

# Redis's answer to one decision: allowed (1 or 0), backlog and wait in µs.
Answer = tuple[int, int, int]


class UnexpectedReply(Exception):
    """Redis answered with an error, or with something other than three integers per key."""


class _Batch:
    __slots__ = ("args", "keys", "waiters")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.args: list[int] = []
        # One future per decision rather than one for all: a caller that gives up
        # (is cancelled) must not cancel the others' answers with it.
        self.waiters: list[asyncio.Future[Answer]] = []

    def answer(self, reply: Reply) -> None:
        waiters = self.waiters
        if not (
            type(reply) is list
            and len(reply) == 3 * len(waiters)
            and all(type(value) is int for value in reply)
        ):
            self.fail(UnexpectedReply(repr(reply)[:200]))
            return
        for index, waiter in enumerate(waiters):
            if not waiter.done():
                at = 3 * index
                waiter.set_result((reply[at], reply[at + 1], reply[at + 2]))

    def fail(self, exc: Exception) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(exc)


class GcraBatches:
    """Runs decisions through `GCRA_SCRIPT` on the connection `connect` returns, a tick's at a time.

    A batch fails whole: the connection's failures (`ConnectionError`,
    `TimeoutError`) and `UnexpectedReply` reach every decision in it.
    """

    def __init__(self, connect: Callable[[], RedisConnection]) -> None:
        # Called per batch: the owner's connection, opened again after one is lost.
        self._connect = connect
        self._filling: _Batch | None = None
        self._closed = False
        # Taken at the first decision (built, it may not be running yet), then kept:
        # on Python 3.11 each `get_running_loop` is a getpid system call.
        self._loop: asyncio.AbstractEventLoop | None = None

    async def decide(self, key: bytes, interval_us: int, limit: int) -> Answer:
        batch = self._filling
        loop = self._loop or self._first_loop()
        if batch is None or len(batch.keys) >= MAX_BATCH:
            batch = self._filling = _Batch()
            # Runs after every callback already queued: the tick's other decisions join first.
            loop.call_soon(self._send, batch)
        waiter: asyncio.Future[Answer] = loop.create_future()
        batch.keys.append(key)
        batch.args += (interval_us, limit)
        batch.waiters.append(waiter)
        return await waiter

    def _first_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def close(self) -> None:
        """Fail the batch still filling, and any later decision."""
        self._closed = True

    def _send(self, batch: _Batch) -> None:
        if self._filling is batch:
            self._filling = None
        self._call(batch, b"EVALSHA", GCRA_SHA1)

    def _call(self, batch: _Batch, command: bytes, script: bytes) -> None:
        if self._closed:
            batch.fail(ConnectionError("the rate limiter's connection to Redis is closed"))
            return
        try:
            connection = self._connect()
            reply = connection.send(
                encode_command(command, script, len(batch.keys), *batch.keys, *batch.args)
            )
        except ConnectionError as exc:
            batch.fail(exc)
            return
        # The tick is over already: no reason to wait for the connection's own flush.
        connection.flush()
        reply.add_done_callback(partial(self._answered, batch, command))

    def _answered(self, batch: _Batch, command: bytes, reply: asyncio.Future[Reply]) -> None:
        if reply.cancelled():  # pragma: no cover - nothing cancels a connection's futures
            batch.fail(ConnectionError("the Redis command was cancelled"))
            return
        if (exc := reply.exception()) is not None:
            batch.fail(exc if isinstance(exc, Exception) else ConnectionError(repr(exc)))
            return
        value = reply.result()
        if (
            command == b"EVALSHA"
            and isinstance(value, hiredis.ReplyError)
            and str(value).startswith("NOSCRIPT")
        ):
            # Redis restarted or its scripts were flushed. EVAL runs the script and
            # caches it again, so the next EVALSHA finds it.
            self._call(batch, b"EVAL", GCRA_SCRIPT_BYTES)
            return
        batch.answer(value)
