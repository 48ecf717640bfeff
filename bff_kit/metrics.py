"""A BFF's metrics of its calls to services: outcomes, durations, retries, circuit states."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service_defaults.metrics import DURATION_BUCKETS


class UpstreamMetrics:
    """The metric families, and each upstream's series in them.

    A series is looked up once and kept: prometheus_client's `labels()` takes a
    lock and builds a key on every call, twice per call to a service otherwise.
    Each appears on first use, so an outcome that never happened has no line.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "frontdoor_bff_upstream_calls",
            "Calls to services, by upstream and outcome.",
            ["upstream", "outcome"],
            registry=registry,
        )
        self.durations = Histogram(
            "frontdoor_bff_upstream_call_duration_seconds",
            "Time a call to a service took, retries and their pauses included, "
            "by upstream and outcome.",
            ["upstream", "outcome"],
            buckets=DURATION_BUCKETS,
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
        self._calls: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._retries: dict[str, Counter] = {}
        self._states: dict[str, Gauge] = {}

    def count_call(self, upstream: str, outcome: str, state: int, duration_s: float) -> None:
        """One call's outcome and duration, and the circuit's state after it."""
        key = (upstream, outcome)
        series = self._calls.get(key)
        if series is None:
            series = self._calls[key] = (
                self.calls.labels(upstream, outcome),
                self.durations.labels(upstream, outcome),
            )
        series[0].inc()
        series[1].observe(duration_s)
        gauge = self._states.get(upstream)
        if gauge is None:
            gauge = self._states[upstream] = self.breaker.labels(upstream)
        gauge.set(state)

    def count_retry(self, upstream: str) -> None:
        retries = self._retries.get(upstream)
        if retries is None:
            retries = self._retries[upstream] = self.retries.labels(upstream)
        retries.inc()
