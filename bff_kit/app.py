"""`create_bff_app`: a BFF's app, with its callers' tokens, deadlines and faults wired in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from bff_kit.bearer import CallerBearerMiddleware
from bff_kit.faults import FaultInjectionMiddleware
from bff_kit.settings import BffSettings
from bff_kit.upstreams import Upstreams
from service_defaults.app import DeadlinePolicy, create_service_app
from service_defaults.resources import Resources


def create_bff_app(
    *,
    title: str,
    upstreams: Upstreams,
    resources: Resources[Any],
    route_handlers: Sequence[ControllerRouterHandler],
    dependencies: Mapping[str, Provide],
    settings: BffSettings,
) -> Litestar:
    return create_service_app(
        title=title,
        route_handlers=route_handlers,
        registry=upstreams.registry,
        metrics_allowed_from=settings.metrics_allowed_from,
        resources=resources,
        # No readiness checks on the services: a BFF taken out of rotation because
        # a service is down would turn one degraded section into a dead page. The
        # circuits are shown in /readyz for people, not acted on.
        readiness_info=upstreams.circuits,
        dependencies=dependencies,
        # Read, not enforced: a screen answers at its deadline with what arrived.
        deadline=DeadlinePolicy(max_budget_s=settings.request_budget_s, cut_off=False),
        telemetry=upstreams.telemetry,
        middleware=[
            CallerBearerMiddleware,
            *([FaultInjectionMiddleware] if settings.environment == "dev" else []),
        ],
    )
