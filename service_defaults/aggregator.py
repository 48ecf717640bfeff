"""`create_aggregator_app`: a BFF's app, wired to its upstreams with breakers, deadlines, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from service_defaults.app import create_service_app
from service_defaults.bearer import provide_authorization
from service_defaults.deadlines import provide_deadline
from service_defaults.faults import FaultInjectionMiddleware
from service_defaults.http_clients import open_clients
from service_defaults.metrics import create_metrics_handler, create_registry
from service_defaults.resilience import CircuitBreaker
from service_defaults.upstream import Upstream, UpstreamMetrics


class AggregatorSettings(Protocol):
    @property
    def environment(self) -> str: ...
    @property
    def request_budget_s(self) -> float: ...
    @property
    def breaker_failure_threshold(self) -> int: ...
    @property
    def breaker_reset_after_s(self) -> float: ...


def create_aggregator_app(
    *,
    title: str,
    settings: AggregatorSettings,
    route_handlers: Sequence[ControllerRouterHandler],
    upstreams: Mapping[str, tuple[str, Callable[[Upstream], Any]]],
) -> Litestar:
    """`upstreams` maps a name to its base URL and the typed client wrapping it.

    Each typed client lands in `app.state.<name>`. Handlers receive the caller's
    `authorization` header to forward and the request's `deadline`.
    """
    registry = create_registry()
    metrics = UpstreamMetrics(registry)
    breakers = {
        name: CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold,
            reset_after_s=settings.breaker_reset_after_s,
        )
        for name in upstreams
    }

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        urls = {name: url for name, (url, _) in upstreams.items()}
        async with open_clients(urls, timeout_s=settings.request_budget_s) as clients:
            for name, (_, wrap) in upstreams.items():
                upstream = Upstream(name, clients[name], metrics, breaker=breakers[name])
                setattr(app.state, name, wrap(upstream))
            yield

    async def circuits(_: State) -> dict[str, str]:
        return {f"circuit:{name}": b.state.name.lower() for name, b in breakers.items()}

    return create_service_app(
        title=title,
        route_handlers=[*route_handlers, create_metrics_handler(registry)],
        lifespan=[lifespan],
        # No readiness checks on the services: a BFF taken out of rotation because
        # a service is down would turn one degraded section into a dead page. The
        # circuits are shown in /readyz for people, not acted on.
        readiness_info=circuits,
        dependencies={
            "authorization": Provide(provide_authorization),
            "deadline": Provide(provide_deadline, sync_to_thread=False),
        },
        state={"request_budget_s": settings.request_budget_s},
        middleware=[FaultInjectionMiddleware] if settings.environment == "dev" else [],
    )
