"""A circuit breaker per upstream, and the transport that bounds, judges and reports each call.

    DeadlineTransport -> CircuitBreakerTransport -> RetryTransport -> FaultTransport -> network

The breaker sits outside the retries: one call is one verdict, however many
attempts it took, so two failing requests cannot open a circuit meant to open
after five.
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import IntEnum

import httpx

from bff_kit.errors import UpstreamError
from bff_kit.metrics import UpstreamMetrics

log = logging.getLogger("frontdoor.upstream")

# A call cut short by a timeout counts against the service only if it was given at
# least this share of the client's full timeout.
FAIR_SHARE = 0.5


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


class CircuitBreakerTransport(httpx.AsyncBaseTransport):
    """Fails fast while the circuit is open; otherwise bounds the call by its timeout,
    reads the answer whole, tells the breaker and the metrics how it went, and
    turns a failure into an `UpstreamError` naming the service.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        name: str,
        breaker: CircuitBreaker,
        metrics: UpstreamMetrics,
        full_timeout_s: float,
    ) -> None:
        self._inner = inner
        self._name = name
        self._breaker = breaker
        self._metrics = metrics
        self._full_timeout_s = full_timeout_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        try:
            probing = self._breaker.before_call()
        except CircuitOpen:
            self._count("circuit_open", started)
            raise UpstreamError(
                status_code=503,
                detail=f"The {self._name} service is failing; not calling it for a moment.",
            ) from None
        timeout_s = request.extensions.get("timeout", {}).get("read") or self._full_timeout_s
        try:
            # The one bound on the whole call, retries and their pauses included.
            async with asyncio.timeout(timeout_s):
                response = await self._inner.handle_async_request(request)
                try:
                    await response.aread()
                except BaseException:
                    await response.aclose()  # give its connection back to the pool
                    raise
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # httpx-aiohttp reports a refused connection as a ConnectTimeout too:
            # either way the request never reached the service.
            raise self._unreachable(request, exc, started) from None
        except (TimeoutError, httpx.TimeoutException):
            self._timed_out(timeout_s, probing, started)
            raise UpstreamError(
                status_code=504, detail=f"The {self._name} service did not answer in time."
            ) from None
        except httpx.RequestError as exc:  # a broken connection, an undecodable body
            raise self._unreachable(request, exc, started) from None
        except BaseException:
            # Cancelled midway (its screen already failed), or an error no handler
            # above knows: the probe proved nothing, and the next call may probe
            # instead. Left out, it would keep the circuit shut for good.
            if probing:
                self._breaker.release_probe()
            raise
        if response.status_code == 504:
            # The service ran out of the budget it was handed: judged like a timeout
            # here, so a caller whose budget was nearly spent cannot trip the circuit.
            self._timed_out(timeout_s, probing, started)
        elif response.status_code >= 500:
            self._failed(f"status_{response.status_code}", started)
        else:
            self._breaker.record_success()
            self._count("ok", started)
        return response

    def _unreachable(self, request: httpx.Request, exc: Exception, started: float) -> UpstreamError:
        self._failed("unreachable", started)
        log.warning("%s %s on %s failed: %r", request.method, request.url.path, self._name, exc)
        return UpstreamError(detail=f"The {self._name} service is unavailable.")

    def _timed_out(self, timeout_s: float, probing: bool, started: float) -> None:
        if timeout_s < FAIR_SHARE * self._full_timeout_s:
            # The request's own deadline was mostly spent before this call (a slow
            # upload, a slow earlier hop): not the service's failure, so the circuit
            # is not told, or one client could trip it for everyone.
            if probing:
                self._breaker.release_probe()
            self._count("deadline", started)
        else:
            self._failed("timeout", started)

    def _failed(self, outcome: str, started: float) -> None:
        self._breaker.record_failure()
        self._count(outcome, started)

    def _count(self, outcome: str, started: float) -> None:
        """The call's outcome, its duration since `started`, and the circuit's state after it."""
        duration_s = time.monotonic() - started
        self._metrics.count_call(self._name, outcome, int(self._breaker.state), duration_s)

    async def aclose(self) -> None:
        await self._inner.aclose()
