"""The method rule: a method the route does not accept is a 405 that names the ones it does."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.rules.method import check_method
from tests.unit.edge.conftest import RouteFiles


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_listed_method_passes(route_files: RouteFiles, method: str) -> None:
    check_method(route_files.route(methods=["GET", "POST"]), method)


def test_head_passes_where_get_is_listed(route_files: RouteFiles) -> None:
    check_method(route_files.route(methods=["GET"]), "HEAD")


def test_head_is_405_where_get_is_not_listed(route_files: RouteFiles) -> None:
    with pytest.raises(Refused) as refused:
        check_method(route_files.route(methods=["POST"]), "HEAD")

    assert refused.value.status == 405


def test_an_unlisted_method_is_405_with_the_allowed_ones_sorted(route_files: RouteFiles) -> None:
    route = route_files.route(methods=["POST", "GET"])

    with pytest.raises(Refused) as refused:
        check_method(route, "DELETE")

    assert refused.value.status == 405
    assert refused.value.headers == [(b"allow", b"GET, HEAD, POST")]


def test_options_is_405_unless_listed(route_files: RouteFiles) -> None:
    with pytest.raises(Refused):
        check_method(route_files.route(), "OPTIONS")
    check_method(route_files.route(methods=["OPTIONS"]), "OPTIONS")


@pytest.mark.parametrize("method", ["get", "Get"])
def test_methods_are_case_sensitive(route_files: RouteFiles, method: str) -> None:
    # RFC 9110 section 9.1: "get" is another method than "GET".
    with pytest.raises(Refused) as refused:
        check_method(route_files.route(methods=["GET"]), method)

    assert refused.value.status == 405
