"""Rate limiting with GCRA, in memory or in Redis.

GCRA (the generic cell rate algorithm) keeps one timestamp per key, the
"theoretical arrival time" (TAT), and so has no window edges: unlike a fixed
window it never lets a client spend two windows' worth at the boundary.
A policy of `limit` requests per `window_s` lets through `limit` back to back,
then one every `window_s / limit` seconds.

The Redis limiter runs the whole decision as one Lua script on Redis's own
clock, so any number of edge processes share each limit exactly.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from service_defaults.telemetry import DISABLED, Telemetry

log = logging.getLogger("frontdoor.edge.rate_limits")


# What a policy does when Redis cannot answer (see `RedisLimiter`).
FailureMode = Literal["open", "closed", "local"]


@dataclass(frozen=True)
class RatePolicy:
    name: str
    limit: int
    window_s: float
    # Who shares one quota: the token's subject, or the client's address.
    key: Literal["subject", "client_address"] = "subject"
    # When Redis cannot answer: let through, refuse, or count in this process
    # (exact per replica); None takes the edge's EDGE_RATE_LIMIT_ON_REDIS_FAILURE.
    on_redis_failure: FailureMode | None = None

    @property
    def interval_us(self) -> int:
        return max(1, round(self.window_s * 1_000_000 / self.limit))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset_s: int  # seconds until the full quota is back
    retry_after_s: int  # when refused, seconds until one more request is allowed
    # Set when the limiter could not decide (Redis unreachable) and the configured
    # failure mode answered instead.
    degraded: bool = False
    # Set when this process's own limiter decided in Redis's place ("local").
    local: bool = False


def gcra(tat_us: int, now_us: int, policy: RatePolicy) -> tuple[Decision, int]:
    """One GCRA step: the decision and the new TAT (unchanged when refused)."""
    interval = policy.interval_us
    tat = max(tat_us, now_us)
    new_tat = tat + interval
    allow_at = new_tat - policy.limit * interval
    if now_us < allow_at:
        return _decision(False, tat, now_us, policy, allow_at - now_us), tat
    return _decision(True, new_tat, now_us, policy, 0), new_tat


def _decision(
    allowed: bool, tat_us: int, now_us: int, policy: RatePolicy, wait_us: int
) -> Decision:
    backlog = tat_us - now_us  # how far ahead of "now" the key has spent
    interval = policy.interval_us
    return Decision(
        allowed=allowed,
        remaining=max(0, (policy.limit * interval - backlog) // interval),
        reset_s=math.ceil(backlog / 1_000_000),
        retry_after_s=math.ceil(wait_us / 1_000_000),
    )


class RateLimiter(Protocol):
    async def decide(self, key: str, policy: RatePolicy) -> Decision: ...

    async def close(self) -> None: ...


class MemoryLimiter:
    """One process's limits; exact for a single edge, per-process with several."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._tat: dict[str, int] = {}

    async def decide(self, key: str, policy: RatePolicy) -> Decision:
        now = time.monotonic_ns() // 1000
        full_key = f"{policy.name}:{key}"
        decision, self._tat[full_key] = gcra(self._tat.get(full_key, now), now, policy)
        if len(self._tat) > self.MAX_KEYS:
            # A key whose TAT has passed holds no state worth keeping: forget it.
            self._tat = {k: tat for k, tat in self._tat.items() if tat > now}
        return decision

    async def close(self) -> None:
        return None


# KEYS[1]: the key; ARGV: interval and limit, in microseconds and requests.
# Returns {allowed, new or kept TAT - now, wait}, all integers, all relative to
# Redis's clock so edge processes with skewed clocks still agree.
GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - limit * interval
if now < allow_at then
  return {0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, new_tat - now, 0}
"""


class RedisLimiter:
    """Limits shared by every edge process through one Redis.

    When Redis does not answer within `timeout_s`, `on_failure` decides: "open"
    lets the request through, "closed" refuses it with a 503. Either way the
    limiter then leaves Redis alone for `retry_after_failure_s` so that an
    outage costs one timeout per second, not one per request.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "frontdoor:ratelimit:",
        timeout_s: float = 0.1,
        on_failure: FailureMode = "open",
        retry_after_failure_s: float = 1.0,
        telemetry: Telemetry = DISABLED,
    ) -> None:
        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=None,
        )
        telemetry.instrument_redis(self._redis)
        self._script = self._redis.register_script(GCRA_SCRIPT)
        self._prefix = prefix
        self._on_failure = on_failure
        self._local = MemoryLimiter()
        self._pause_s = retry_after_failure_s
        self._paused_until = 0.0

    async def decide(self, key: str, policy: RatePolicy) -> Decision:
        if time.monotonic() >= self._paused_until:
            try:
                allowed, backlog, wait = await self._script(
                    keys=[f"{self._prefix}{policy.name}:{key}"],
                    args=[policy.interval_us, policy.limit],
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._paused_until = time.monotonic() + self._pause_s
                log.warning("rate limiter: Redis unavailable, failing per policy: %r", exc)
            else:
                return _decision(bool(allowed), int(backlog), 0, policy, int(wait))
        mode = policy.on_redis_failure or self._on_failure
        if mode == "local":
            return replace(await self._local.decide(key, policy), local=True)
        return Decision(
            allowed=mode == "open",
            remaining=0,
            reset_s=0,
            retry_after_s=math.ceil(self._pause_s),
            degraded=True,
        )

    async def close(self) -> None:
        await self._redis.aclose()


def rate_limit_headers(policy: RatePolicy, decision: Decision) -> list[tuple[bytes, bytes]]:
    """`RateLimit-Policy` and `RateLimit` as the IETF httpapi draft writes them."""
    headers = [
        (
            b"ratelimit-policy",
            f'"{policy.name}";q={policy.limit};w={round(policy.window_s)}'.encode(),
        ),
        (b"ratelimit", f'"{policy.name}";r={decision.remaining};t={decision.reset_s}'.encode()),
    ]
    if not decision.allowed:
        headers.append((b"retry-after", str(max(1, decision.retry_after_s)).encode()))
    return headers
