"""The edge's Prometheus metrics: requests, latency, upstream errors, limiter decisions."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from service_defaults.metrics import create_registry


class EdgeMetrics:
    def __init__(self) -> None:
        self.registry = create_registry()
        self.requests = Counter(
            "frontdoor_edge_requests",
            "Requests answered by the edge, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "frontdoor_edge_request_duration_seconds",
            "Time from the request's arrival to the end of the response, by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
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
