"""Fixtures for every unit test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    """Retries without backoff sleeps; `cap` keeps the code's own attempts (3 GET, 1 POST)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield
