"""`/metrics` in the Prometheus text format, from a registry owned by the app."""

from __future__ import annotations

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest


def create_registry() -> CollectorRegistry:
    # The `_created` series double every line and no dashboard reads them.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    # One registry per app rather than the process-global one: tests build many apps.
    return CollectorRegistry()


def create_metrics_handler(registry: CollectorRegistry) -> HTTPRouteHandler:
    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics() -> Response[bytes]:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    return metrics
