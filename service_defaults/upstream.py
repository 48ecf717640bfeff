"""Calls from a BFF to one service: deadlines, retries, a circuit breaker, typed decoding.

    HTTPException (litestar)
    └── UpstreamError: 502 when the service fails or answers garbage,
                       503 when its circuit is open, 504 when the deadline runs out

A 401, 404, 409 or 422 from the service is the caller's answer too and passes
through with the service's detail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import msgspec
import stamina
from litestar.exceptions import HTTPException
from prometheus_client import CollectorRegistry, Counter, Gauge

from service_defaults.deadlines import BUDGET_HEADER, Deadline
from service_defaults.faults import active_fault
from service_defaults.resilience import CircuitBreaker, CircuitOpen, RetryBudget

T = TypeVar("T")
log = logging.getLogger("frontdoor.upstream")

# A call cut short by a timeout counts against the service only if it was given at
# least this share of the client's full timeout.
FAIR_SHARE = 0.5
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
PASSED_THROUGH = frozenset({400, 401, 403, 404, 409, 422})


class UpstreamError(HTTPException):
    status_code = 502


@dataclass(frozen=True)
class Answer(Generic[T]):
    body: T
    headers: httpx.Headers


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: Mapping[str, str]
    params: Mapping[str, str | int] | None
    content: bytes | None


class _Retryable(Exception):
    """A failure worth one more try: the request never reached the service, or it said 503."""


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


class Upstream:
    """One service as seen from a BFF: a pooled client, its breaker and its retry budget."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        metrics: UpstreamMetrics,
        *,
        breaker: CircuitBreaker | None = None,
        retry_budget: RetryBudget | None = None,
        attempts: int = 3,
    ) -> None:
        self.name = name
        self.client = client
        self.breaker = breaker or CircuitBreaker()
        self._budget = retry_budget or RetryBudget()
        self._metrics = metrics
        self._attempts = attempts

    async def call_json(
        self,
        method: str,
        path: str,
        result_type: type[T],
        *,
        deadline: Deadline,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None = None,
        body: msgspec.Struct | None = None,
    ) -> T:
        answer = await self.call(
            method, path, result_type, deadline=deadline, headers=headers, params=params, body=body
        )
        return answer.body

    async def call(
        self,
        method: str,
        path: str,
        result_type: type[T],
        *,
        deadline: Deadline,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None = None,
        body: msgspec.Struct | None = None,
    ) -> Answer[T]:
        """As `call_json`, with the service's response headers too."""
        self._budget.record_call()
        # Only requests that are safe to repeat are retried; a POST is sent once.
        attempts = self._attempts if method in IDEMPOTENT else 1
        request = _Request(
            method, path, headers, params, msgspec.json.encode(body) if body is not None else None
        )

        tries = 0

        def retry_allowed(exc: Exception) -> bool:
            # stamina asks before it checks its attempt limit: after the last
            # attempt there is no retry to pay for.
            if tries >= attempts:
                return False
            if isinstance(exc, _Retryable) and self._budget.try_spend():
                self._metrics.retries.labels(self.name).inc()
                return True
            return False

        try:
            async for attempt in stamina.retry_context(
                on=retry_allowed,
                attempts=attempts,
                timeout=max(deadline.remaining(), 0.001),
                wait_initial=0.02,
                wait_max=0.2,
                wait_jitter=0.05,
            ):
                with attempt:
                    tries = attempt.num
                    response = await self._send(request, deadline)
        except _Retryable as exc:
            raise UpstreamError(detail=f"The {self.name} service is unavailable.") from exc
        return Answer(self._decode(request, response, result_type), response.headers)

    async def _send(self, request: _Request, deadline: Deadline) -> httpx.Response:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise UpstreamError(status_code=504, detail="The request ran out of time.")
        try:
            probing = self.breaker.before_call()
        except CircuitOpen:
            self._count("circuit_open")
            raise UpstreamError(
                status_code=503,
                detail=f"The {self.name} service is failing; not calling it for a moment.",
            ) from None
        outbound = {**request.headers, BUDGET_HEADER: str(max(1, int(remaining * 1000)))}
        if request.content is not None:
            outbound["content-type"] = "application/json"
        try:
            async with asyncio.timeout(remaining):
                response = await self._exchange(request, outbound, remaining)
        except asyncio.CancelledError:
            # A probe cancelled midway (its screen already failed) proved nothing;
            # the next call may probe instead.
            if probing:
                self.breaker.release_probe()
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Either way the request never reached the service, so it is safe to
            # send again. (httpx-aiohttp also reports a refused connection as a
            # ConnectTimeout.)
            self._failed("unreachable")
            log.warning("%s %s on %s failed: %r", request.method, request.path, self.name, exc)
            raise _Retryable from exc
        except (TimeoutError, httpx.TimeoutException):
            full_s = self.client.timeout.read or remaining
            if remaining < FAIR_SHARE * full_s:
                # The request's own deadline was mostly spent before this call (a
                # slow upload, a slow earlier hop): not the service's failure, so
                # the circuit is not told, or a client could trip it for everyone.
                if probing:
                    self.breaker.release_probe()
                self._count("deadline")
            else:
                self._failed("timeout")
            raise UpstreamError(
                status_code=504, detail=f"The {self.name} service did not answer in time."
            ) from None
        except httpx.RequestError as exc:
            self._failed("unreachable")
            log.warning("%s %s on %s failed: %r", request.method, request.path, self.name, exc)
            raise _Retryable from exc
        if response.status_code >= 500:
            self._failed(f"status_{response.status_code}")
            if response.status_code == 503:
                raise _Retryable
            raise UpstreamError(detail=f"The {self.name} service failed to answer.")
        self.breaker.record_success()
        self._count("ok")
        return response

    async def _exchange(
        self, request: _Request, headers: Mapping[str, str], timeout_s: float
    ) -> httpx.Response:
        fault = active_fault(self.name)
        if fault == "down":
            raise httpx.ConnectError("fault injected: down")
        if fault and fault.startswith("status:"):
            return httpx.Response(int(fault.split(":")[1]))
        if fault and fault.startswith("slow:"):
            await asyncio.sleep(int(fault.split(":")[1]) / 1000)
        return await self.client.request(
            request.method,
            request.path,
            headers=headers,
            params=request.params,
            content=request.content,
            timeout=timeout_s,
        )

    def _failed(self, outcome: str) -> None:
        self.breaker.record_failure()
        self._count(outcome)

    def _count(self, outcome: str) -> None:
        self._metrics.calls.labels(self.name, outcome).inc()
        self._metrics.breaker.labels(self.name).set(int(self.breaker.state))

    def _decode(self, request: _Request, response: httpx.Response, result_type: type[T]) -> T:
        if response.status_code in PASSED_THROUGH:
            headers = {}
            if "www-authenticate" in response.headers:
                headers["WWW-Authenticate"] = response.headers["www-authenticate"]
            raise HTTPException(
                status_code=response.status_code,
                detail=_detail(response) or "The request was refused.",
                headers=headers,
                extra=_errors(response),
            )
        if response.status_code >= 400:
            log.warning(
                "%s %s on %s answered %d",
                request.method,
                request.path,
                self.name,
                response.status_code,
            )
            raise UpstreamError(detail=f"The {self.name} service refused the request.")
        try:
            return msgspec.json.decode(response.content, type=result_type)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            log.error(
                "%s %s on %s answered an unexpected body: %s",
                request.method,
                request.path,
                self.name,
                exc,
            )
            raise UpstreamError(
                detail=f"The {self.name} service answered with an unexpected body."
            ) from None


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        problem: Any = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return {}
    return problem if isinstance(problem, dict) else {}


def _detail(response: httpx.Response) -> str:
    detail = _problem(response).get("detail")
    return detail if isinstance(detail, str) else ""


def _errors(response: httpx.Response) -> list[dict[str, str]] | None:
    """Field errors of a 422, as the service named them, for the BFF's own problem."""
    errors = _problem(response).get("errors")
    if not isinstance(errors, list):
        return None
    return [
        {"key": str(e.get("field", "")), "message": str(e.get("message", ""))}
        for e in errors
        if isinstance(e, dict)
    ]
