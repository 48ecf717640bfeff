"""The copy's route file, read with the edge's own loader, and a variant for the edge harness."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from edge.route_file import load_route_table
from edge.routing import Route, RouteTable
from edge.settings import Settings
from service_defaults.settings import ConfigError
from workshop.checks.verdicts import copy_root, fail

ROUTE_FILE = "infra/edge/routes.yaml"
# The one upstream of the harness's edges: the echo backend answers every path 200.
HARNESS_UPSTREAM = "echo"


def edge_upstreams() -> dict[str, str]:
    """The upstream names the edge knows by default, with their addresses."""
    return Settings(tls_certfile="unused", tls_keyfile="unused").upstreams


def load_copy_routes() -> RouteTable:
    try:
        return load_route_table(copy_root() / ROUTE_FILE, edge_upstreams())
    except ConfigError as exc:
        fail(f"The edge would refuse to start with your route file: {exc}")


def route_for(table: RouteTable, path: str) -> Route:
    route = table.match(path)
    if route is None:
        fail(f"No route of {ROUTE_FILE} matches {path}.")
    return route


def upstream_name(route: Route) -> str:
    """The name in EDGE_UPSTREAMS that the route's resolved address stands for."""
    names = {url.rstrip("/"): name for name, url in edge_upstreams().items()}
    return names.get(route.upstream, route.upstream)


def route_file_for_harness(directory: Path) -> Path:
    """The copy's route file with every upstream the harness's echo backend: the policies,
    paths and auth are the learner's, only the address behind them changes."""
    document = yaml.safe_load((copy_root() / ROUTE_FILE).read_text())
    for route in document["routes"]:
        route["upstream"] = HARNESS_UPSTREAM
    target = directory / "routes.json"
    target.write_text(json.dumps(document))  # JSON is YAML: the edge's loader reads it
    return target
