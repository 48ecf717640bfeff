"""`/metrics` in the Prometheus text format, from a registry owned by the app."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest

PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def create_registry() -> CollectorRegistry:
    # The `_created` series double every line and no dashboard reads them.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    # One registry per app rather than the process-global one: tests build many apps.
    return CollectorRegistry()


def create_metrics_handler(
    registry: CollectorRegistry, *, allowed_from: Sequence[str] | None = None
) -> HTTPRouteHandler:
    """`allowed_from` (networks) limits who may read; everyone else gets a 404, as if
    the endpoint did not exist. Without it any caller may read (an internal port)."""
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed_from or ()]

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        if networks:
            peer = ipaddress.ip_address(request.client.host if request.client else "0.0.0.0")  # noqa: S104
            if not any(peer in network for network in networks):
                raise NotFoundException("Not Found")
        return Response(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    return metrics
