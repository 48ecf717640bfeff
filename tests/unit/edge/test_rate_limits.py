"""GCRA: a burst of `limit`, then one request per `window_s / limit`, never a double burst."""

from __future__ import annotations

from edge.rate_limits import RatePolicy, RedisLimiter, gcra, rate_limit_headers

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
