"""The route rule: the most specific route for a path, or a 404."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.routing import RouteTable
from edge.rules.route_match import matched_route
from tests.unit.edge.conftest import RouteFiles


@pytest.fixture
def table(route_files: RouteFiles) -> RouteTable:
    return route_files.table(
        [
            {"name": "api", "path": {"value": "/api"}, "upstream": "api"},
            {"name": "api-public", "path": {"value": "/api/public"}, "upstream": "api"},
            {
                "name": "health",
                "path": {"value": "/api/health", "type": "Exact"},
                "upstream": "other",
            },
        ]
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api", "api"),
        ("/api/orders/1", "api"),
        ("/api/public/logo.svg", "api-public"),
        ("/api/health", "health"),
        ("/api/health/deep", "api"),
    ],
)
def test_the_most_specific_route_serves_the_path(table: RouteTable, path: str, name: str) -> None:
    assert matched_route(table, path).name == name


@pytest.mark.parametrize("path", ["/", "/apix", "/API/orders", "/other/api"])
def test_a_path_no_route_matches_is_404(table: RouteTable, path: str) -> None:
    with pytest.raises(Refused) as refused:
        matched_route(table, path)

    assert refused.value.status == 404
    assert refused.value.detail == "No route matches this path."
    assert refused.value.headers == []


def test_a_root_prefix_catches_every_path_the_others_miss(route_files: RouteFiles) -> None:
    table = route_files.table(
        [
            {"name": "api", "path": {"value": "/api"}, "upstream": "api"},
            {"name": "site", "path": {"value": "/"}, "upstream": "other"},
        ]
    )

    assert matched_route(table, "/anything/else").name == "site"
    assert matched_route(table, "/api/x").name == "api"
    assert matched_route(table, "/api/x").upstream == "http://api.test"
