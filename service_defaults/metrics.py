"""Prometheus metrics every process has: its registry, RED metrics, JWKS fetches, `/metrics`."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, Literal

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from service_defaults.loop_metrics import LabelledCounter, LabelledHistogram

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PROMETHEUS_TEXT = "text/plain; version=0.0.4"
# Who may read /metrics unless a process's `<PREFIX>METRICS_ALLOWED_FROM` says otherwise.
LOOPBACK_NETWORKS = ("127.0.0.1/32", "::1/128")
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A method is a label: anything a client makes up counts as one value, not a new series.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
OTHER_METHOD = "_OTHER"


def create_registry() -> CollectorRegistry:
    """A registry holding the process's CPU, memory, file descriptors, GC and Python version."""
    # The `_created` series double every line and no dashboard reads them.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    # One registry per app rather than the process-global one: tests build many apps.
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


class HttpMetrics:
    """`frontdoor_http_requests_total{route,method,status}` and the request duration histogram.

    Recorded on the event loop's thread, by the request-context middleware and the
    edge's proxy. Routes are templates or route names and methods a fixed set, so
    the series stay few.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = LabelledCounter(
            "frontdoor_http_requests",
            "Requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry,
        )
        self._durations = LabelledHistogram(
            "frontdoor_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route and method.",
            ["route", "method"],
            registry,
            DURATION_BUCKETS,
        )

    def record(self, route: str, method: str, status: int, duration_s: float) -> None:
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        self._requests.inc((route, method, status))
        self._durations.observe((route, method), duration_s)


class JwksFetches:
    """`frontdoor_jwks_fetches_total{outcome}`, as a `JwksKeySource`'s `on_fetch`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        counter = Counter(
            "frontdoor_jwks_fetches",
            "Fetches of the token issuer's public keys, by outcome (ok, failed).",
            ["outcome"],
            registry=registry,
        )
        # Both exist from the start, so a rate of failures reads 0 rather than nothing.
        self._outcomes: dict[str, Counter] = {
            outcome: counter.labels(outcome) for outcome in ("ok", "failed")
        }

    def __call__(self, outcome: Literal["ok", "failed"]) -> None:
        self._outcomes[outcome].inc()


def check_networks(variable: str, networks: Sequence[str]) -> None:
    """Raise `ValueError` naming `variable` when an entry is not an IP network.

    For a settings `__post_init__`, so a bad allow-list stops start-up in one line.
    """
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{variable}: {network!r} is not an IP network") from None


def create_metrics_handler(
    registry: CollectorRegistry, *, allowed_from: Sequence[str] | None = LOOPBACK_NETWORKS
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
