"""Rule: a path no route matches is a 404."""

from __future__ import annotations

from edge.refusal import Refused
from edge.routing import Route, RouteTable


def matched_route(table: RouteTable, path: str) -> Route:
    route = table.match(path)
    if route is None:
        raise Refused(404, "No route matches this path.")
    return route
