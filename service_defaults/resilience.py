"""A circuit breaker per upstream, and a retry budget so retries cannot multiply an outage."""

from __future__ import annotations

import time
from enum import IntEnum


class BreakerState(IntEnum):
    # Numbered for the metrics gauge: 0 closed, 1 half-open, 2 open.
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpen(Exception):
    """Calls to this upstream fail fast until its breaker lets a probe through."""


class CircuitBreaker:
    """Closed -> open after `failure_threshold` failures in a row; after `reset_after_s`
    one probe is let through (half-open): its success closes the breaker, its
    failure opens it again. While open, calls fail without touching the upstream.
    """

    def __init__(self, *, failure_threshold: int = 5, reset_after_s: float = 5.0) -> None:
        self._threshold = failure_threshold
        self._reset_after_s = reset_after_s
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.state = BreakerState.CLOSED

    def before_call(self) -> bool:
        """Raise `CircuitOpen`, or allow the call; True when the call is the probe."""
        if self.state == BreakerState.CLOSED:
            return False
        if self.state == BreakerState.OPEN:
            if time.monotonic() - self._opened_at < self._reset_after_s:
                raise CircuitOpen
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self._probing:
            raise CircuitOpen  # one probe at a time
        self._probing = True
        return True

    def release_probe(self) -> None:
        """The probe ended without an answer either way (it was cancelled)."""
        self._probing = False

    def record_success(self) -> None:
        self._failures = 0
        self._probing = False
        self.state = BreakerState.CLOSED

    def record_failure(self) -> None:
        self._failures += 1
        self._probing = False
        if self.state == BreakerState.HALF_OPEN or self._failures >= self._threshold:
            self.state = BreakerState.OPEN
            self._opened_at = time.monotonic()


class RetryBudget:
    """Retries may add at most `ratio` extra calls per call, plus a small floor.

    Each call deposits `ratio` tokens; each retry spends one. In an outage every
    call fails, the tokens run out, and traffic stays near 1x instead of the 3x
    that three attempts per call would give (the gRPC and Finagle approach).
    """

    def __init__(self, *, ratio: float = 0.2, floor: float = 3.0, cap: float = 20.0) -> None:
        self._ratio = ratio
        self._cap = cap
        self._tokens = floor

    def record_call(self) -> None:
        self._tokens = min(self._cap, self._tokens + self._ratio)

    def try_spend(self) -> bool:
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
