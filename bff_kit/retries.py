"""Retries of idempotent calls that failed on the way or met a 503, within a retry budget."""

from __future__ import annotations

import httpx
import stamina

from bff_kit.metrics import UpstreamMetrics
from service_defaults.deadlines import stamp_budget

# How many times this request was sent before the attempt now going out, for the
# attempt's client span (`http.request.resend_count`).
RESEND_COUNT = "frontdoor.resend_count"
# Methods that are safe to send twice; a POST is sent once, whatever happens.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


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


class _TryAgain(Exception):
    """This attempt failed in a way worth another, and the budget paid for it."""

    def __init__(self, failure: httpx.Response | Exception) -> None:
        super().__init__()
        self.failure = failure


class RetryTransport(httpx.AsyncBaseTransport):
    """Up to `attempts` tries of an idempotent request, with stamina's backoff and jitter.

    The first attempt runs outside the retry loop, so a call that succeeds (nearly
    all of them) pays nothing for it; the first retry then goes at once, since its
    usual cause is a pooled connection the service had just closed, and stamina
    spaces out the rest.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        name: str,
        budget: RetryBudget,
        metrics: UpstreamMetrics,
        attempts: int = 3,
    ) -> None:
        self._inner = inner
        self._name = name
        self._budget = budget
        self._metrics = metrics
        self._attempts = attempts
        self._retrying = stamina.AsyncRetryingCaller(
            attempts=max(1, attempts - 1),
            timeout=None,  # the breaker transport bounds the whole call
            wait_initial=0.02,
            wait_max=0.2,
            wait_jitter=0.05,
        ).on(_TryAgain)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._budget.record_call()
        if request.method not in IDEMPOTENT or self._attempts <= 1:
            return await self._inner.handle_async_request(request)
        try:
            return await self._attempt(request, last=False)  # one of two or more
        except _TryAgain:
            pass
        tries = 1

        async def attempt() -> httpx.Response:
            nonlocal tries
            request.extensions[RESEND_COUNT] = tries
            tries += 1
            return await self._attempt(request, last=tries >= self._attempts)

        try:
            return await self._retrying(attempt)
        except _TryAgain as exhausted:
            # stamina gave up before our last attempt (its test mode caps attempts):
            # answer with that attempt's failure.
            if isinstance(exhausted.failure, httpx.Response):
                return exhausted.failure
            raise exhausted.failure from None

    async def _attempt(self, request: httpx.Request, *, last: bool) -> httpx.Response:
        stamp_budget(request)  # what is left now, not what was left at the first attempt
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.RequestError as exc:
            # A timeout is the deadline's business, not worth another try; any
            # other failure (refused, reset, a broken answer) is, for a request
            # that is safe to send twice.
            timed_out = isinstance(exc, httpx.TimeoutException)
            if timed_out and not isinstance(exc, httpx.ConnectTimeout):
                raise
            if not last and self._spend():
                raise _TryAgain(exc) from exc
            raise
        if response.status_code == 503 and not last and self._spend():
            await response.aread()  # read, not closed: it is the answer if stamina gives up
            raise _TryAgain(response)
        return response

    def _spend(self) -> bool:
        if self._budget.try_spend():
            self._metrics.count_retry(self._name)
            return True
        return False

    async def aclose(self) -> None:
        await self._inner.aclose()
