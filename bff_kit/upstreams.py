"""One service as a BFF calls it: a pooled client whose transport chain carries the resilience.

    DeadlineTransport -> CircuitBreakerTransport -> RetryTransport
        -> client span (when tracing) -> FaultTransport (dev) -> network

The chain is composed here once, the way eShop composes DelegatingHandlers; a
BFF's typed client sees a plain `httpx.AsyncClient` and none of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from opentelemetry.instrumentation.httpx import RequestInfo
from opentelemetry.trace import Span
from prometheus_client import CollectorRegistry

from bff_kit.bearer import ForwardBearer
from bff_kit.breaker import CircuitBreaker, CircuitBreakerTransport
from bff_kit.errors import UpstreamError
from bff_kit.faults import FaultTransport
from bff_kit.metrics import UpstreamMetrics
from bff_kit.retries import RESEND_COUNT, RetryBudget, RetryTransport
from bff_kit.settings import BffSettings
from service_defaults.deadlines import current_deadline, stamp_budget
from service_defaults.http_clients import create_http_client, create_network_transport
from service_defaults.metrics import create_registry
from service_defaults.telemetry import DISABLED, Telemetry


@dataclass(frozen=True, kw_only=True)
class CallPolicy:
    timeout_s: float
    failure_threshold: int
    reset_after_s: float
    faults: bool
    attempts: int = 3


class DeadlineTransport(httpx.AsyncBaseTransport):
    """Gives each call what is left of the request's deadline, and tells the service."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = current_deadline()
        if deadline is not None:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise UpstreamError(status_code=504, detail="The request ran out of time.")
            timeouts: Mapping[str, float | None] = request.extensions.get("timeout", {})
            request.extensions["timeout"] = {
                phase: remaining if limit is None else min(limit, remaining)
                for phase, limit in timeouts.items()
            }
            stamp_budget(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Upstream:
    """A service's name and address, its circuit breaker and its retry budget."""

    def __init__(
        self,
        name: str,
        base_url: str,
        policy: CallPolicy,
        metrics: UpstreamMetrics,
        network: httpx.AsyncBaseTransport | None = None,
        telemetry: Telemetry = DISABLED,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.breaker = CircuitBreaker(
            failure_threshold=policy.failure_threshold, reset_after_s=policy.reset_after_s
        )
        self._budget = RetryBudget()
        self._policy = policy
        self._metrics = metrics
        self._network = network
        self._telemetry = telemetry

    def open_client(self) -> httpx.AsyncClient:
        """The pooled client, to be opened and closed by the app's lifespan."""
        transport = self._network or create_network_transport()
        if self._policy.faults:
            transport = FaultTransport(transport, name=self.name)
        # Below the retries: each attempt is a client span of its own, as the HTTP
        # semantic conventions ask, and an injected fault fails its span.
        transport = self._telemetry.http_transport(transport, self._describe_call)
        transport = RetryTransport(
            transport,
            name=self.name,
            budget=self._budget,
            metrics=self._metrics,
            attempts=self._policy.attempts,
        )
        transport = CircuitBreakerTransport(
            transport,
            name=self.name,
            breaker=self.breaker,
            metrics=self._metrics,
            full_timeout_s=self._policy.timeout_s,
        )
        return create_http_client(
            self.base_url,
            timeout_s=self._policy.timeout_s,
            transport=DeadlineTransport(transport),
            auth=ForwardBearer(),
        )

    async def _describe_call(self, span: Span, request: RequestInfo) -> None:
        resends = request.extensions.get(RESEND_COUNT, 0) if request.extensions else 0
        span.set_attributes(
            {
                "frontdoor.upstream": self.name,
                "frontdoor.breaker.state": self.breaker.state.name.lower(),
                "http.request.resend_count": resends,
            }
        )


class Upstreams:
    """The services one BFF calls, with the metrics they share.

    `network` replaces the network under every chain: tests pass an
    `httpx.MockTransport` and exercise the whole chain above it.
    """

    def __init__(
        self,
        settings: BffSettings,
        *,
        network: httpx.AsyncBaseTransport | None = None,
        telemetry: Telemetry = DISABLED,
    ) -> None:
        self.registry: CollectorRegistry = create_registry()
        self._metrics = UpstreamMetrics(self.registry)
        self._policy = CallPolicy(
            timeout_s=settings.request_budget_s,
            failure_threshold=settings.breaker_failure_threshold,
            reset_after_s=settings.breaker_reset_after_s,
            # Dev mode only: in production the X-Fault header means nothing.
            faults=settings.environment == "dev",
        )
        self._network = network
        self.telemetry = telemetry
        self.members: list[Upstream] = []

    def add(self, name: str, base_url: str) -> Upstream:
        upstream = Upstream(
            name, base_url, self._policy, self._metrics, self._network, self.telemetry
        )
        self.members.append(upstream)
        return upstream

    @asynccontextmanager
    async def open_clients(self) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
        """Every member's client by name, for the app's lifespan; all closed on the way out."""
        async with AsyncExitStack() as stack:
            yield {u.name: await stack.enter_async_context(u.open_client()) for u in self.members}

    def circuits(self) -> dict[str, str]:
        """Each circuit's state, for /readyz."""
        return {f"circuit:{u.name}": u.breaker.state.name.lower() for u in self.members}
