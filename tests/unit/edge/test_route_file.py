"""The route file: what the edge derives from each route, and the messages refusing a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cors import CorsPolicy
from edge.rate_limits import RatePolicy
from edge.route_file import load_route_table
from edge.routing import Route, RouteTable
from service_defaults.settings import ConfigError

UPSTREAMS = {"echo": "http://echo.test:8000/", "users": "http://users.test"}
SHIPPED = Path(__file__).parents[3] / "infra" / "edge" / "routes.yaml"

POLICIES = """
rate_limits:
  login: {limit: 10, window_s: 60, key: client_address, on_redis_failure: local}
  api: {limit: 120, window_s: 60}
cors:
  web:
    allow_origins: ["https://app.example"]
    allow_methods: [GET, POST]
    allow_headers: [Authorization, content-type]
    expose_headers: [x-request-id, etag]
"""


def load(tmp_path: Path, text: str) -> RouteTable:
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    return load_route_table(path, UPSTREAMS)


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    return str(raised.value).removeprefix(f"{tmp_path / 'routes.yaml'}: ")


def only_route(tmp_path: Path, route: str, policies: str = "") -> Route:
    (served,) = load(tmp_path, f"{policies}\nroutes:\n  - {route}\n").routes
    return served


def test_a_route_serves_the_upstreams_base_url_without_its_trailing_slash(
    tmp_path: Path,
) -> None:
    route = only_route(tmp_path, "{name: api, path: {value: /api}, upstream: echo}")

    assert route.upstream == "http://echo.test:8000"


def test_defaults_require_a_token_for_the_frontdoor_audience(tmp_path: Path) -> None:
    route = only_route(tmp_path, "{name: api, path: {value: /api}, upstream: echo}")

    assert (route.path, route.match) == ("/api", "PathPrefix")
    assert route.auth_required is True
    assert route.audiences == frozenset({"frontdoor"})
    assert (route.timeout_s, route.max_body_bytes, route.rewrite_prefix) == (10.0, 1 << 20, None)
    assert (route.rate_limit, route.cors) == (None, None)


def test_auth_none_needs_no_token(tmp_path: Path) -> None:
    route = only_route(tmp_path, "{name: api, path: {value: /api}, upstream: echo, auth: none}")

    assert route.auth_required is False


def test_allowing_get_allows_head_and_the_allow_header_lists_both(tmp_path: Path) -> None:
    route = only_route(
        tmp_path, "{name: page, path: {value: /page}, upstream: echo, methods: [GET, POST]}"
    )

    assert route.methods == frozenset({"GET", "HEAD", "POST"})
    assert route.allow_header == b"GET, HEAD, POST"


def test_a_route_without_get_does_not_gain_head(tmp_path: Path) -> None:
    route = only_route(
        tmp_path, "{name: token, path: {value: /token}, upstream: users, methods: [POST]}"
    )

    assert route.methods == frozenset({"POST"})
    assert route.allow_header == b"POST"


def test_the_default_methods_are_every_method_but_options(tmp_path: Path) -> None:
    route = only_route(tmp_path, "{name: api, path: {value: /api}, upstream: echo}")

    assert route.allow_header == b"DELETE, GET, HEAD, PATCH, POST, PUT"


def test_policies_are_resolved_by_name(tmp_path: Path) -> None:
    route = only_route(
        tmp_path,
        "{name: token, path: {type: Exact, value: /token}, upstream: users, auth: none,"
        " rate_limit: login, cors: web}",
        POLICIES,
    )

    assert route.rate_limit == RatePolicy(
        name="login", limit=10, window_s=60.0, key="client_address", on_redis_failure="local"
    )
    assert route.cors == CorsPolicy(
        allow_origins=frozenset({"https://app.example"}),
        allow_methods=frozenset({"GET", "POST"}),
        allow_headers=frozenset({"authorization", "content-type"}),
        expose_headers=("x-request-id", "etag"),
        allow_credentials=False,
        max_age_s=600,
    )


def test_routes_naming_one_policy_share_the_same_object(tmp_path: Path) -> None:
    table = load(
        tmp_path,
        POLICIES
        + "routes:\n"
        + "  - {name: web, path: {value: /web}, upstream: echo, rate_limit: api}\n"
        + "  - {name: mobile, path: {value: /mobile}, upstream: echo, rate_limit: api}\n",
    )

    web, mobile = table.routes
    assert web.rate_limit is not None
    assert web.rate_limit is mobile.rate_limit


def test_the_shipped_route_file_loads() -> None:
    upstreams = {name: f"http://{name}.test" for name in ("bff_web", "bff_mobile", "users")}

    table = load_route_table(SHIPPED, upstreams)

    web = table.match("/api/web/dashboard")
    assert web is not None
    assert (web.name, web.upstream) == ("web", "http://bff_web.test")


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (
            "{name: api, path: {value: /api}, upstream: orders}",
            """route "api": upstream: 'orders' is not one of EDGE_UPSTREAMS (echo, users)""",
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, rate_limit: burst}",
            """route "api": rate_limit: no policy named 'burst' in rate_limits""",
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, cors: mobile}",
            """route "api": cors: no policy named 'mobile' in cors""",
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, audiences: []}",
            'route "api": audiences: a route that requires a token must accept some audience',
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, auth: none, rate_limit: api}",
            'route "api": rate_limit: a per-subject limit needs auth: required',
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, timeout_s: soon}",
            'route "api" (routes[0]): timeout_s: Expected `float`, got `str`',
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, timeut_s: 5}",
            'route "api" (routes[0]): route: Object contains unknown field `timeut_s`',
        ),
        (
            "{name: api, path: {value: /api}, upstream: echo, methods: [FETCH]}",
            """route "api" (routes[0]): methods[0]: Invalid enum value 'FETCH'""",
        ),
        (
            "{name: api, path: {value: api}, upstream: echo}",
            """route "api" (routes[0]): path.value: Expected `str` matching regex '^/'""",
        ),
        (
            "{name: api, path: {value: /api}}",
            'route "api" (routes[0]): route: Object missing required field `upstream`',
        ),
    ],
)
def test_a_bad_route_is_refused_naming_the_route_and_the_field(
    tmp_path: Path, route: str, message: str
) -> None:
    assert refusal(tmp_path, f"{POLICIES}\nroutes:\n  - {route}\n") == message


@pytest.mark.parametrize("derived", ["auth_required: true", "allow_header: GET"])
def test_what_the_edge_derives_cannot_be_written_in_the_file(tmp_path: Path, derived: str) -> None:
    routes = f"routes:\n  - {{name: api, path: {{value: /api}}, upstream: echo, {derived}}}\n"

    assert refusal(tmp_path, routes).startswith(
        'route "api" (routes[0]): route: Object contains unknown field'
    )


def test_every_problem_across_routes_is_reported_at_once(tmp_path: Path) -> None:
    routes = (
        "routes:\n"
        "  - {name: api, path: {value: /api}, upstream: echo}\n"
        "  - {name: api, path: {value: /api/}, upstream: orders}\n"
    )

    assert refusal(tmp_path, routes) == "; ".join(
        [
            'route "api": path: another route matches exactly the same paths',
            'route "api": the name is used twice',
            """route "api": upstream: 'orders' is not one of EDGE_UPSTREAMS (echo, users)""",
        ]
    )


def test_a_wildcard_origin_with_credentials_is_refused(tmp_path: Path) -> None:
    text = (
        "cors:\n  everyone: {allow_origins: ['*'], allow_credentials: true}\n"
        "routes:\n  - {name: api, path: {value: /api}, upstream: echo, cors: everyone}\n"
    )

    assert refusal(tmp_path, text) == (
        'cors "everyone": allow_origins "*" cannot be combined with credentials'
    )


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"

    with pytest.raises(ConfigError) as raised:
        load_route_table(missing, UPSTREAMS)

    assert str(raised.value) == f"{missing}: cannot read the route file: No such file or directory"


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path, "routes: [\n").startswith("not valid YAML: ")
