"""The edge's own endpoints, served by Litestar; every other path goes through the proxy."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.handlers import HTTPRouteHandler

from edge.metrics import EdgeMetrics
from service_defaults.metrics import create_metrics_handler

# Litestar answers these (health from the kit, metrics here); the proxy never sees them.
OWN_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


def create_edge_routes(
    metrics: EdgeMetrics, *, metrics_allowed_from: Sequence[str]
) -> list[HTTPRouteHandler]:
    # On the public port, so readable only from the networks allowed (loopback by
    # default); everyone else gets a 404 as if it did not exist.
    return [create_metrics_handler(metrics.registry, allowed_from=metrics_allowed_from)]
