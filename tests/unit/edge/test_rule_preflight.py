"""The preflight rule: a CORS preflight is answered at the edge, 204 headers or a 403."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route
from edge.rules.preflight import cors_headers, is_preflight, preflight_answer
from tests.unit.edge.conftest import RouteFiles

WEB = b"https://web.test"
ALLOW_WEB = (b"access-control-allow-origin", WEB)


@pytest.fixture
def route(route_files: RouteFiles) -> Route:
    cors = {"web": {"allow_origins": [WEB.decode()], "allow_headers": ["content-type"]}}
    return route_files.route({"cors": cors}, cors="web")


def preflight(*extra: tuple[bytes, bytes], method: bytes = b"POST") -> RequestFields:
    return RequestFields([(b"origin", WEB), (b"access-control-request-method", method), *extra])


def test_options_asking_for_a_method_is_a_preflight() -> None:
    assert is_preflight("OPTIONS", preflight())


def test_options_without_a_requested_method_is_an_ordinary_request() -> None:
    assert not is_preflight("OPTIONS", RequestFields([(b"origin", WEB)]))


def test_another_method_asking_for_a_method_is_no_preflight() -> None:
    assert not is_preflight("GET", preflight())


def test_an_allowed_preflight_gets_the_policys_headers(route: Route) -> None:
    headers = preflight_answer(
        route, preflight((b"access-control-request-headers", b"Content-Type"))
    )

    assert ALLOW_WEB in headers
    assert (b"access-control-allow-methods", b"GET, POST") in headers
    assert (b"access-control-allow-headers", b"content-type") in headers


@pytest.mark.parametrize(
    "fields",
    [
        RequestFields(
            [(b"origin", b"https://evil.test"), (b"access-control-request-method", b"GET")]
        ),
        RequestFields([(b"access-control-request-method", b"GET")]),
        preflight(method=b"DELETE"),
        preflight((b"access-control-request-headers", b"x-secret")),
    ],
    ids=["other-origin", "no-origin", "method", "header"],
)
def test_a_preflight_the_policy_does_not_allow_is_403(route: Route, fields: RequestFields) -> None:
    with pytest.raises(Refused) as refused:
        preflight_answer(route, fields)

    assert refused.value.status == 403
    assert refused.value.headers == [(b"vary", b"Origin")]


def test_a_preflight_without_an_origin_is_403_even_where_any_origin_is_allowed(
    route_files: RouteFiles,
) -> None:
    route = route_files.route({"cors": {"any": {"allow_origins": ["*"]}}}, cors="any")
    allowed = preflight_answer(route, preflight())

    with pytest.raises(Refused) as refused:
        preflight_answer(route, RequestFields([(b"access-control-request-method", b"GET")]))

    assert ALLOW_WEB in allowed
    assert refused.value.status == 403


def test_a_preflight_to_a_route_without_cors_is_403(route_files: RouteFiles) -> None:
    with pytest.raises(Refused) as refused:
        preflight_answer(route_files.route(), preflight())

    assert refused.value.status == 403


def test_an_actual_request_from_an_allowed_origin_gets_its_cors_headers(route: Route) -> None:
    headers = cors_headers(route, RequestFields([(b"origin", WEB)]))

    assert headers == [ALLOW_WEB, (b"vary", b"Origin")]


def test_an_actual_request_from_another_origin_gets_only_vary(route: Route) -> None:
    headers = cors_headers(route, RequestFields([(b"origin", b"https://evil.test")]))

    assert headers == [(b"vary", b"Origin")]


def test_a_request_without_an_origin_gets_no_cors_headers(route: Route) -> None:
    assert cors_headers(route, RequestFields([])) == []


def test_a_route_without_cors_adds_no_cors_headers(route_files: RouteFiles) -> None:
    assert cors_headers(route_files.route(), RequestFields([(b"origin", WEB)])) == []
