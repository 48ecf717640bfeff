"""The edge's own Prometheus metrics: upstream errors, limiter decisions, JWKS fetches.

Requests and their durations are the kit's RED metrics, recorded for every process
alike (`service_defaults.metrics.HttpMetrics`); the proxy names the route.
"""

from __future__ import annotations

from prometheus_client import Counter

from service_defaults.metrics import JwksFetches, create_registry


class EdgeMetrics:
    def __init__(self) -> None:
        self.registry = create_registry()
        self.upstream_errors = Counter(
            "frontdoor_edge_upstream_errors",
            "Upstream calls that failed, by route and kind (unreachable, timeout).",
            ["route", "kind"],
            registry=self.registry,
        )
        self.rate_limit = Counter(
            "frontdoor_edge_rate_limit_decisions",
            "Rate-limit decisions, by policy and outcome (allowed, limited, "
            "failed_open, failed_closed).",
            ["policy", "decision"],
            registry=self.registry,
        )
        self.jwks_fetches = JwksFetches(self.registry)
