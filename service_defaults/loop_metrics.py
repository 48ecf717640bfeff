"""Counters and histograms for the event loop's thread: a dict update per count,
Prometheus samples only when `/metrics` is read."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString


class LabelledCounter:
    """A counter with labels, counted in a dict and turned into samples when read.

    prometheus_client's `Counter` takes a lock on every count and its `labels()`
    builds a key and takes another lock: a µs or more per request. Here one
    thread counts, the event loop's, and `/metrics` is read on it too (a copy
    taken when read keeps a reader on another thread safe): a dict update is
    enough. Label values must come from small fixed sets (see docs/metrics.md).
    """

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._counts: dict[tuple[str | int, ...], int] = {}
        registry.register(self)

    def inc(self, labels: tuple[str | int, ...]) -> None:
        """One more for `labels`, in `labelnames` order; an int becomes its decimal text."""
        self._counts[labels] = self._counts.get(labels, 0) + 1

    def describe(self) -> list[Metric]:
        return [CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)]

    def collect(self) -> list[Metric]:
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)
        # A copy of the items: a dict cannot change size while it is walked.
        for labels, count in list(self._counts.items()):
            family.add_metric([str(value) for value in labels], count)
        return [family]


class LabelledHistogram:
    """A histogram with labels, counted in lists and turned into samples when read,
    for the same reasons as `LabelledCounter`."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        buckets: Sequence[float],
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._bounds = tuple(float(bound) for bound in buckets)
        # Spelled as prometheus_client spells `le`: "0.005", "1.0", "+Inf".
        labels: list[str] = [floatToGoString(b) for b in self._bounds]  # type: ignore[no-untyped-call]
        self._bucket_labels = [*labels, "+Inf"]
        # Per label set: a count per bucket (each bucket's own, not cumulative), the
        # count above the last bound, then the sum of the values.
        self._series: dict[tuple[str, ...], list[float]] = {}
        registry.register(self)

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [0] * (len(self._bounds) + 2)
        # Prometheus buckets hold values up to and including their bound.
        series[bisect_left(self._bounds, value)] += 1
        series[-1] += value

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)]

    def collect(self) -> list[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        for labels, series in list(self._series.items()):
            counts = list(series)
            buckets = list(zip(self._bucket_labels, accumulate(counts[:-1]), strict=True))
            family.add_metric(list(labels), buckets, sum_value=counts[-1])
        return [family]
