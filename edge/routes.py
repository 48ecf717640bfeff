"""The edge's own endpoints, served by Litestar; every other path goes through the proxy."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

# Litestar answers these (health and metrics from the kit); the proxy never sees them.
OWN_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


def create_edge_routes() -> list[HTTPRouteHandler]:
    """The edge's endpoints beyond the kit's `/livez`, `/readyz` and `/metrics`.

    `/metrics` is on the public port, so the kit serves it only to the networks
    in `EDGE_METRICS_ALLOWED_FROM` (loopback by default): others get a 404.
    """
    return []
