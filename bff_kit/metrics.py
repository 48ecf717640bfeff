"""A BFF's metrics of its calls to services: outcomes, retries, circuit states."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class UpstreamMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "frontdoor_bff_upstream_calls",
            "Calls to services, by upstream and outcome.",
            ["upstream", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "frontdoor_bff_upstream_retries",
            "Retries, by upstream.",
            ["upstream"],
            registry=registry,
        )
        self.breaker = Gauge(
            "frontdoor_bff_circuit_state",
            "Circuit state: 0 closed, 1 half-open, 2 open.",
            ["upstream"],
            registry=registry,
        )
