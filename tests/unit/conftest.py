"""Fixtures for every unit test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service_defaults.telemetry import Telemetry


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    """Retries without backoff sleeps; `cap` keeps the code's own attempts (3 GET, 1 POST)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
def exported() -> InMemorySpanExporter:
    """Every span the `telemetry` fixture's provider ended, kept in memory."""
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(exported: InMemorySpanExporter) -> Iterator[Telemetry]:
    """Tracing on, each span exported as it ends (no batching) into `exported`."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    yield Telemetry("test", provider)
    provider.shutdown()
