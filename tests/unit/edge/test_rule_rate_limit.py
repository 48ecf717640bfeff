"""The rate-limit rule: whose quota a request spends, its RateLimit headers, 429 and 503."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge.metrics import EdgeMetrics
from edge.rate_limits import Decision, MemoryLimiter, RatePolicy, RedisLimiter
from edge.refusal import Refused
from edge.rules.rate_limit import RateLimitRule, outcome_of
from tests.unit.edge.conftest import RouteFiles

DECISIONS = "frontdoor_edge_rate_limit_decisions_total"
# Nothing listens on port 1: every call to this Redis fails at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def policy(route_files: RouteFiles, **spec: Any) -> RatePolicy:
    """The policy "tight" as the route file builds it: 2 per minute unless `spec` says otherwise."""
    spec = {"limit": 2, "window_s": 60, **spec}
    route = route_files.route({"rate_limits": {"tight": spec}}, rate_limit="tight")
    assert route.rate_limit is not None
    return route.rate_limit


@pytest.fixture
def metrics() -> EdgeMetrics:
    return EdgeMetrics()


@pytest.fixture
def rule(metrics: EdgeMetrics) -> RateLimitRule:
    return RateLimitRule(MemoryLimiter(), metrics)


@pytest.fixture
async def dead_redis() -> AsyncIterator[RedisLimiter]:
    limiter = RedisLimiter(DEAD_REDIS, on_failure="open")
    yield limiter
    await limiter.close()


def counted(metrics: EdgeMetrics, outcome: str) -> float | None:
    return metrics.registry.get_sample_value(DECISIONS, {"policy": "tight", "decision": outcome})


@pytest.mark.parametrize(
    ("decision", "outcome"),
    [
        (Decision(True, 1, 1, 0), "allowed"),
        (Decision(False, 0, 1, 1), "limited"),
        (Decision(True, 0, 0, 1, degraded=True), "failed_open"),
        (Decision(False, 0, 0, 1, degraded=True), "failed_closed"),
        (Decision(True, 1, 1, 0, local=True), "local_allowed"),
        (Decision(False, 0, 1, 1, local=True), "local_limited"),
    ],
)
def test_each_decision_has_its_outcome_name(decision: Decision, outcome: str) -> None:
    assert outcome_of(decision) == outcome


async def test_a_request_within_the_limit_gets_its_ratelimit_headers(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    headers = await rule.check(policy(route_files), "alice", "203.0.113.9")

    assert headers == [
        (b"ratelimit-policy", b'"tight";q=2;w=60'),
        (b"ratelimit", b'"tight";r=1;t=30'),
    ]


async def test_the_request_past_the_limit_is_429_with_when_to_retry(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    tight = policy(route_files)
    for _ in range(2):
        await rule.check(tight, "alice", "203.0.113.9")

    with pytest.raises(Refused) as refused:
        await rule.check(tight, "alice", "203.0.113.9")

    assert refused.value.status == 429
    headers = dict(refused.value.headers)
    assert headers[b"ratelimit"] == b'"tight";r=0;t=60'
    assert headers[b"retry-after"] == b"30"


async def test_a_subject_policy_gives_each_subject_its_own_quota_from_any_address(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    tight = policy(route_files, limit=1)
    await rule.check(tight, "alice", "203.0.113.1")

    # Bob behind the same address still has his quota; Alice from elsewhere has none.
    await rule.check(tight, "bob", "203.0.113.1")
    with pytest.raises(Refused):
        await rule.check(tight, "alice", "198.51.100.7")


async def test_an_address_policy_shares_one_quota_per_address_whoever_signs_in(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    tight = policy(route_files, limit=1, key="client_address")
    await rule.check(tight, "alice", "203.0.113.1")

    await rule.check(tight, "alice", "198.51.100.7")
    with pytest.raises(Refused):
        await rule.check(tight, "bob", "203.0.113.1")


async def test_a_subject_policy_without_a_subject_counts_by_address(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    tight = policy(route_files, limit=1)
    await rule.check(tight, None, "203.0.113.1")

    await rule.check(tight, None, "198.51.100.7")
    with pytest.raises(Refused):
        await rule.check(tight, None, "203.0.113.1")


async def test_a_subject_named_like_an_address_key_does_not_spend_that_addresss_quota(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    # Subjects and addresses share one key space in the limiter: a token's subject
    # must never be able to spend (or exhaust) an address's quota.
    tight = policy(route_files, limit=1)
    await rule.check(tight, "addr:203.0.113.1", "198.51.100.7")

    await rule.check(tight, None, "203.0.113.1")


async def test_each_decision_is_counted_by_policy_and_outcome(
    rule: RateLimitRule, metrics: EdgeMetrics, route_files: RouteFiles
) -> None:
    tight = policy(route_files, limit=1)
    await rule.check(tight, "alice", "203.0.113.1")
    for _ in range(2):
        with pytest.raises(Refused):
            await rule.check(tight, "alice", "203.0.113.1")

    assert counted(metrics, "allowed") == 1
    assert counted(metrics, "limited") == 2


async def test_notes_get_the_policy_the_decision_and_what_remains(
    rule: RateLimitRule, route_files: RouteFiles
) -> None:
    tight = policy(route_files)
    allowed: dict[str, str | int] = {}
    limited: dict[str, str | int] = {}
    await rule.check(tight, "alice", "203.0.113.1", allowed)
    await rule.check(tight, "alice", "203.0.113.1")

    with pytest.raises(Refused):
        await rule.check(tight, "alice", "203.0.113.1", limited)

    assert allowed == {
        "frontdoor.rate_limit.policy": "tight",
        "frontdoor.rate_limit.decision": "allowed",
        "frontdoor.rate_limit.remaining": 1,
    }
    assert limited["frontdoor.rate_limit.decision"] == "limited"
    assert limited["frontdoor.rate_limit.remaining"] == 0


async def test_with_redis_down_a_closed_policy_is_503_without_ratelimit_headers(
    dead_redis: RedisLimiter, metrics: EdgeMetrics, route_files: RouteFiles
) -> None:
    rule = RateLimitRule(dead_redis, metrics)

    with pytest.raises(Refused) as refused:
        await rule.check(policy(route_files, on_redis_failure="closed"), "alice", "203.0.113.1")

    assert refused.value.status == 503
    assert refused.value.headers == [(b"retry-after", b"1")]
    assert counted(metrics, "failed_closed") == 1


async def test_with_redis_down_an_open_policy_lets_through_without_ratelimit_headers(
    dead_redis: RedisLimiter, metrics: EdgeMetrics, route_files: RouteFiles
) -> None:
    rule = RateLimitRule(dead_redis, metrics)
    notes: dict[str, str | int] = {}

    # No quota was counted: RateLimit headers would state one nobody knows.
    headers = await rule.check(policy(route_files), "alice", "203.0.113.1", notes)

    assert headers == []
    assert notes["frontdoor.rate_limit.decision"] == "failed_open"
    assert counted(metrics, "failed_open") == 1


async def test_with_redis_down_a_local_policy_counts_here_and_says_so(
    dead_redis: RedisLimiter, metrics: EdgeMetrics, route_files: RouteFiles
) -> None:
    rule = RateLimitRule(dead_redis, metrics)
    local = policy(route_files, limit=1, on_redis_failure="local")

    headers = await rule.check(local, "alice", "203.0.113.1")
    with pytest.raises(Refused) as refused:
        await rule.check(local, "alice", "203.0.113.1")

    assert dict(headers)[b"ratelimit"] == b'"tight";r=0;t=60'
    assert refused.value.status == 429
    assert counted(metrics, "local_allowed") == 1
    assert counted(metrics, "local_limited") == 1
