"""Rule: a request over its route's rate limit is a 429; with Redis down, maybe a 503.

The quota is the token's subject's, or the client address's when the policy says so
(or the route needs no token). Which failure mode applies when Redis cannot answer
is the policy's own (see `edge.rate_limits.RedisLimiter`).
"""

from __future__ import annotations

from edge.metrics import EdgeMetrics
from edge.rate_limits import Decision, RateLimiter, RatePolicy, rate_limit_headers
from edge.refusal import Refused

Headers = list[tuple[bytes, bytes]]
Notes = dict[str, str | int] | None


def outcome_of(decision: Decision) -> str:
    """The decision's name in metrics and spans."""
    if decision.degraded:
        return "failed_open" if decision.allowed else "failed_closed"
    if decision.local:
        return "local_allowed" if decision.allowed else "local_limited"
    return "allowed" if decision.allowed else "limited"


class RateLimitRule:
    def __init__(self, limiter: RateLimiter, metrics: EdgeMetrics) -> None:
        self.limiter = limiter
        self._metrics = metrics

    async def check(
        self, policy: RatePolicy, subject: str | None, client: str, notes: Notes = None
    ) -> Headers:
        """The RateLimit headers for the answer; raise `Refused` when over the limit.

        `notes`, when the request is traced, gets the decision for its span.
        """
        if policy.key == "subject" and subject is not None:
            key = "sub:" + subject
        else:
            key = "addr:" + client
        decision = await self.limiter.decide(key, policy)
        outcome = outcome_of(decision)
        self._metrics.count_rate_limit(policy.name, outcome)
        if notes is not None:
            notes["frontdoor.rate_limit.policy"] = policy.name
            notes["frontdoor.rate_limit.decision"] = outcome
            notes["frontdoor.rate_limit.remaining"] = decision.remaining
        if decision.degraded and not decision.allowed:
            raise Refused(
                503,
                "Rate limiting is unavailable; try again shortly.",
                [(b"retry-after", str(max(1, decision.retry_after_s)).encode())],
            )
        headers = [] if decision.degraded else rate_limit_headers(policy, decision)
        if not decision.allowed:
            raise Refused(429, "Too many requests; slow down.", headers)
        return headers
