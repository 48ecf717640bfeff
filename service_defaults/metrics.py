"""`/metrics` in the Prometheus text format, from a registry owned by the app."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def create_registry() -> CollectorRegistry:
    # The `_created` series double every line and no dashboard reads them.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    # One registry per app rather than the process-global one: tests build many apps.
    return CollectorRegistry()


def create_metrics_handler(
    registry: CollectorRegistry, *, allowed_from: Sequence[str] | None = None
) -> HTTPRouteHandler:
    """`allowed_from` (networks) limits who may read, and an empty list lets nobody;
    everyone else gets a 404, as if the endpoint did not exist. None lets any
    caller read: for a port that only the cluster reaches."""
    networks = (
        None
        if allowed_from is None
        else [ipaddress.ip_network(n, strict=False) for n in allowed_from]
    )

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        if networks is not None and not _peer_in(request, networks):
            raise NotFoundException("Not Found")
        return Response(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    return metrics


def _peer_in(request: Request[Any, Any, Any], networks: Sequence[IPNetwork]) -> bool:
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:  # no peer address (a unix socket, a test client): not allowed
        return False
    return any(peer in network for network in networks)
