"""`CorsPolicy`: an explicit origin allow-list, preflight answers, and what actual answers carry."""

from __future__ import annotations

from typing import Any

import pytest

from edge.cors import CorsPolicy
from tests.unit.edge.conftest import RouteFiles

WEB = "https://web.test"
EVIL = "https://evil.test"


def from_file(route_files: RouteFiles, **spec: Any) -> CorsPolicy:
    """The policy as the route file builds it, from the file's `cors` section."""
    spec = {"allow_origins": [WEB], **spec}
    cors = route_files.route({"cors": {"web": spec}}, cors="web").cors
    assert cors is not None
    return cors


@pytest.mark.parametrize(
    "origin", [EVIL, WEB + "/", "http://web.test", "https://web.test:444", "null", ""]
)
def test_only_an_origin_on_the_list_exactly_is_allowed(
    route_files: RouteFiles, origin: str
) -> None:
    cors = from_file(route_files)

    assert cors.allows_origin(WEB)
    assert not cors.allows_origin(origin)


def test_a_wildcard_without_credentials_allows_and_echoes_any_origin(
    route_files: RouteFiles,
) -> None:
    cors = from_file(route_files, allow_origins=["*"])

    headers = cors.response_headers(EVIL)

    assert (b"access-control-allow-origin", EVIL.encode()) in headers
    assert (b"access-control-allow-origin", b"*") not in headers


def test_a_wildcard_with_credentials_allows_no_origin_at_all() -> None:
    # The route file refuses this policy; the policy itself refuses it too.
    cors = CorsPolicy(
        allow_origins=frozenset({"*"}),
        allow_methods=frozenset({"GET"}),
        allow_headers=frozenset(),
        expose_headers=(),
        allow_credentials=True,
        max_age_s=600,
    )

    assert not cors.allows_origin(EVIL)
    assert cors.preflight(EVIL, "GET", "") is None
    assert cors.response_headers(EVIL) == [(b"vary", b"Origin")]


def test_an_allowed_preflight_is_answered_with_the_policy(route_files: RouteFiles) -> None:
    cors = from_file(
        route_files, allow_methods=["POST", "GET"], allow_headers=["Content-Type"], max_age_s=120
    )

    headers = cors.preflight(WEB, "POST", "content-type")

    assert headers == [
        (b"access-control-allow-origin", WEB.encode()),
        (b"vary", b"Origin"),
        (b"access-control-allow-methods", b"GET, POST"),
        (b"access-control-max-age", b"120"),
        (b"access-control-allow-headers", b"content-type"),
    ]


def test_requested_headers_match_in_any_case_and_spacing(route_files: RouteFiles) -> None:
    cors = from_file(route_files, allow_headers=["Content-Type", "X-Request-Id"])

    headers = cors.preflight(WEB, "GET", " X-Request-ID ,Content-Type,")

    assert headers is not None
    assert (b"access-control-allow-headers", b"content-type, x-request-id") in headers


def test_a_preflight_asking_no_headers_gets_no_allow_headers(route_files: RouteFiles) -> None:
    headers = from_file(route_files, allow_headers=["content-type"]).preflight(WEB, "GET", "")

    assert headers is not None
    assert all(name != b"access-control-allow-headers" for name, _ in headers)


def test_methods_default_to_get_and_post_and_max_age_to_ten_minutes(
    route_files: RouteFiles,
) -> None:
    headers = from_file(route_files).preflight(WEB, "GET", "")

    assert headers is not None
    assert (b"access-control-allow-methods", b"GET, POST") in headers
    assert (b"access-control-max-age", b"600") in headers


@pytest.mark.parametrize(
    ("origin", "method", "asked"),
    [
        (EVIL, "GET", ""),
        (WEB, "DELETE", ""),
        (WEB, "GET", "x-secret"),
        (WEB, "GET", "content-type, x-secret"),
    ],
    ids=["origin", "method", "header", "one-header-of-two"],
)
def test_a_preflight_outside_the_policy_is_not_allowed(
    route_files: RouteFiles, origin: str, method: str, asked: str
) -> None:
    cors = from_file(route_files, allow_headers=["content-type"])

    assert cors.preflight(origin, method, asked) is None


def test_credentials_are_allowed_only_when_the_policy_says_so(route_files: RouteFiles) -> None:
    with_credentials = from_file(route_files, allow_credentials=True)
    without = from_file(route_files)
    credentials = (b"access-control-allow-credentials", b"true")

    assert credentials in (with_credentials.preflight(WEB, "GET", "") or [])
    assert credentials in with_credentials.response_headers(WEB)
    assert credentials not in (without.preflight(WEB, "GET", "") or [])
    assert credentials not in without.response_headers(WEB)


def test_an_actual_answer_to_an_allowed_origin_exposes_the_listed_headers(
    route_files: RouteFiles,
) -> None:
    cors = from_file(route_files, expose_headers=["RateLimit", "X-Request-Id"])

    assert cors.response_headers(WEB) == [
        (b"access-control-allow-origin", WEB.encode()),
        (b"vary", b"Origin"),
        (b"access-control-expose-headers", b"RateLimit, X-Request-Id"),
    ]


def test_an_actual_answer_exposes_nothing_when_nothing_is_listed(route_files: RouteFiles) -> None:
    headers = from_file(route_files).response_headers(WEB)

    assert all(name != b"access-control-expose-headers" for name, _ in headers)


def test_an_actual_answer_to_another_origin_only_says_it_varies(route_files: RouteFiles) -> None:
    # Without Vary a cache could hand this answer to the allowed origin, or the reverse.
    assert from_file(route_files).response_headers(EVIL) == [(b"vary", b"Origin")]
