"""The edge's own Prometheus metrics: upstream errors, limiter decisions, JWKS fetches.

Requests and their durations are the kit's RED metrics, recorded for every process
alike (`service_defaults.metrics.HttpMetrics`); the proxy names the route.
"""

from __future__ import annotations

from service_defaults.loop_metrics import LabelledCounter
from service_defaults.metrics import JwksFetches, create_registry


class EdgeMetrics:
    """Counted on the event loop's thread, once per request at most: a dict update each."""

    def __init__(self) -> None:
        self.registry = create_registry()
        self._upstream_errors = LabelledCounter(
            "frontdoor_edge_upstream_errors",
            "Upstream calls that failed, by route and kind (unreachable, timeout).",
            ["route", "kind"],
            self.registry,
        )
        self._rate_limit = LabelledCounter(
            "frontdoor_edge_rate_limit_decisions",
            "Rate-limit decisions, by policy and outcome (allowed, limited, "
            "failed_open, failed_closed, local_allowed, local_limited).",
            ["policy", "decision"],
            self.registry,
        )
        self.jwks_fetches = JwksFetches(self.registry)

    def count_rate_limit(self, policy: str, outcome: str) -> None:
        """`policy`: a route file's policy name; `outcome`: a decision of docs/metrics.md."""
        self._rate_limit.inc((policy, outcome))

    def count_upstream_error(self, route: str, kind: str) -> None:
        """`route`: a route file's route name; `kind`: "unreachable" or "timeout"."""
        self._upstream_errors.inc((route, kind))
