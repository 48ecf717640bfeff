"""Rule: a method the route does not accept is a 405 that says which it does."""

from __future__ import annotations

from edge.refusal import Refused
from edge.routing import Route


def check_method(route: Route, method: str) -> None:
    if method not in route.methods:
        raise Refused(
            405, "This route does not accept this method.", [(b"allow", route.allow_header)]
        )
