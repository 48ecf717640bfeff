"""GCRA (a burst of `limit`, then one per interval), and the Redis limiter on a scripted Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from edge.rate_limits import RatePolicy, RedisLimiter, gcra, rate_limit_headers
from edge.redis_gcra import GCRA_SCRIPT, GCRA_SHA1
from service_defaults.telemetry import Telemetry
from tests.unit.edge.fake_redis import (
    CLOSE,
    SILENT,
    allow_everything,
    error,
    fake_redis,
    forgets_its_scripts,
    integers,
)

POLICY = RatePolicy(name="api", limit=4, window_s=4.0)  # one per second after a burst of 4
SECOND = 1_000_000


def run(times_s: list[float]) -> list[bool]:
    tat = 0
    allowed = []
    for t in times_s:
        decision, tat = gcra(tat, int(t * SECOND), POLICY)
        allowed.append(decision.allowed)
    return allowed


def test_a_burst_of_the_limit_passes_and_the_next_is_refused() -> None:
    assert run([10.0] * 5) == [True, True, True, True, False]


def test_after_one_interval_exactly_one_more_passes() -> None:
    assert run([10.0] * 4 + [11.0, 11.0]) == [True, True, True, True, True, False]


def test_no_double_burst_across_a_window_boundary() -> None:
    # A fixed window would allow 4 at 13.9 and 4 more at 14.0.
    assert run([13.9] * 4 + [14.0] * 4).count(True) == 4


def test_a_refusal_says_when_to_retry_and_costs_nothing() -> None:
    tat = 0
    for _ in range(4):
        _, tat = gcra(tat, 10 * SECOND, POLICY)
    refused, kept = gcra(tat, 10 * SECOND, POLICY)

    assert not refused.allowed
    assert refused.retry_after_s == 1
    assert kept == tat, "a refused request must not push the next allowed one later"


def test_headers_follow_the_httpapi_draft() -> None:
    decision, _ = gcra(0, 10 * SECOND, POLICY)

    headers = dict(rate_limit_headers(POLICY, decision))

    assert headers[b"ratelimit-policy"] == b'"api";q=4;w=4'
    assert headers[b"ratelimit"] == b'"api";r=3;t=1'
    assert b"retry-after" not in headers


# Nothing listens on port 1: every call to this Redis fails at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def test_a_local_policy_counts_in_process_while_redis_is_down() -> None:
    limiter = RedisLimiter(DEAD_REDIS, on_failure="open")
    policy = RatePolicy(name="login", limit=2, window_s=60.0, on_redis_failure="local")
    try:
        decisions = [await limiter.decide("addr:203.0.113.7", policy) for _ in range(3)]
    finally:
        await limiter.close()

    assert [d.allowed for d in decisions] == [True, True, False]
    assert all(d.local and not d.degraded for d in decisions)


async def test_a_policy_without_a_mode_takes_the_edges() -> None:
    limiter = RedisLimiter(DEAD_REDIS, on_failure="closed")
    try:
        decision = await limiter.decide("sub:alice", POLICY)
    finally:
        await limiter.close()

    assert decision.degraded and not decision.allowed


async def test_a_decision_runs_the_script_by_its_digest_on_the_policys_key() -> None:
    async with fake_redis() as server:
        limiter = RedisLimiter(server.url)
        try:
            decision = await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    assert decision.allowed and not decision.degraded
    assert server.commands == [
        [b"EVALSHA", GCRA_SHA1, b"1", b"frontdoor:ratelimit:api:sub:alice", b"1000000", b"4"]
    ]


async def test_a_flushed_script_is_sent_whole_and_the_decision_stands() -> None:
    async with fake_redis(forgets_its_scripts()) as server:
        limiter = RedisLimiter(server.url)
        try:
            first = await limiter.decide("sub:alice", POLICY)
            second = await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    assert first.allowed and not first.degraded
    assert second.allowed and not second.degraded
    assert server.names() == [b"EVALSHA", b"EVAL", b"EVALSHA"]
    assert server.commands[1][1] == GCRA_SCRIPT.encode()


@pytest.mark.parametrize(
    "reply",
    [error("BUSY Redis is busy running a script"), b"+OK\r\n", integers(1, 2)],
    ids=["error", "status", "two-integers"],
)
async def test_a_reply_that_is_not_a_decision_fails_per_policy(reply: bytes) -> None:
    async with fake_redis(lambda command: reply) as server:
        limiter = RedisLimiter(server.url, on_failure="closed")
        try:
            decision = await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    assert decision.degraded and not decision.allowed


async def test_failures_in_flight_together_warn_once_and_pause_redis(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with fake_redis(lambda command: error("LOADING Redis is loading")) as server:
        limiter = RedisLimiter(server.url, on_failure="open", retry_after_failure_s=60)
        try:
            decisions = await asyncio.gather(
                *(limiter.decide(f"sub:{i}", POLICY) for i in range(20))
            )
            sent = len(server.commands)
            during_pause = await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    assert all(d.degraded and d.allowed for d in decisions)
    assert during_pause.degraded
    assert sent == 1, "the 20 decisions of one tick are one script call"
    assert len(server.commands) == sent, "a paused limiter must leave Redis alone"
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_hung_redis_is_answered_by_the_failure_mode_within_the_timeout() -> None:
    async with fake_redis(lambda command: SILENT) as server:
        limiter = RedisLimiter(server.url, timeout_s=0.1, on_failure="closed")
        started = time.monotonic()
        try:
            decisions = await asyncio.gather(
                *(limiter.decide(f"sub:{i}", POLICY) for i in range(10))
            )
        finally:
            await limiter.close()
        elapsed = time.monotonic() - started

    assert all(d.degraded and not d.allowed for d in decisions)
    assert elapsed < 1.0


async def test_after_the_pause_a_lost_connection_is_opened_again() -> None:
    def hang_up_once(command: list[bytes]) -> bytes:
        return CLOSE if server.connections == 1 else allow_everything(command)

    async with fake_redis(hang_up_once) as server:
        limiter = RedisLimiter(server.url, retry_after_failure_s=0.05)
        try:
            lost = await limiter.decide("sub:alice", POLICY)
            await asyncio.sleep(0.06)
            recovered = await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    assert lost.degraded
    assert recovered.allowed and not recovered.degraded
    assert server.connections == 2


async def test_a_traced_decision_is_one_client_span_named_for_the_command(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    async with fake_redis() as server:
        limiter = RedisLimiter(server.url, telemetry=telemetry)
        try:
            await limiter.decide("sub:alice", POLICY)
        finally:
            await limiter.close()

    (span,) = exported.get_finished_spans()
    assert span.name == "EVALSHA"
    assert span.kind == SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "db.system.name": "redis",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "db.namespace": "0",
        "db.operation.name": "EVALSHA",
    }


def test_a_url_the_limiter_cannot_use_is_refused_when_it_is_built() -> None:
    with pytest.raises(ValueError, match="'unix' is not supported"):
        RedisLimiter("unix:///run/redis.sock")
