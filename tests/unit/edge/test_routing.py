"""The route table's segment-boundary prefixes, and the refusal of ambiguous paths."""

from __future__ import annotations

from typing import Literal

import pytest

from edge.routing import BadPath, PathMatch, Route, RouteSpec, RouteTable, validate_path


def route(
    path: str, match: Literal["Exact", "PathPrefix"] = "PathPrefix", rewrite: str | None = None
) -> Route:
    spec = RouteSpec(
        name=f"{match} {path}",
        path=PathMatch(value=path, type=match),
        upstream="test",
        methods=frozenset({"GET"}),
        auth="none",
        rewrite_prefix=rewrite,
    )
    return Route.from_spec(spec, upstream="http://upstream.test")


WEB = route("/api/web")
WEB_PUBLIC = route("/api/web/public")
AUTH = route("/auth/")
TABLE = RouteTable([WEB, AUTH, WEB_PUBLIC])


@pytest.mark.parametrize("path", ["/api/web", "/api/web/", "/api/web/dashboard", "/api/web/a/b"])
def test_prefix_matches_itself_and_paths_below_it(path: str) -> None:
    assert TABLE.match(path) == WEB


@pytest.mark.parametrize("path", ["/api/webx", "/api/web-admin", "/api/we", "/api"])
def test_prefix_does_not_match_across_a_segment_boundary(path: str) -> None:
    assert TABLE.match(path) is None


def test_longest_matching_prefix_wins_whatever_the_table_order() -> None:
    assert TABLE.match("/api/web/public/logo.svg") == WEB_PUBLIC
    assert TABLE.match("/api/web/publicity") == WEB


def test_prefix_with_a_trailing_slash_matches_the_bare_prefix_too() -> None:
    assert TABLE.match("/auth") == AUTH
    assert TABLE.match("/auth/token") == AUTH


def test_matching_is_case_sensitive() -> None:
    assert TABLE.match("/API/web/dashboard") is None
    assert TABLE.match("/api/Web") is None


def test_no_match_is_none() -> None:
    assert TABLE.match("/") is None
    assert TABLE.match("/other") is None


def test_root_prefix_is_a_catch_all_below_more_specific_routes() -> None:
    root = route("/")
    table = RouteTable([root, WEB])

    assert table.match("/anything/else") == root
    assert table.match("/api/web/x") == WEB


def test_exact_match_beats_a_longer_prefix_and_matches_only_itself() -> None:
    exact = route("/api/web/public", match="Exact")
    table = RouteTable([route("/api/web/public/"), WEB, exact])

    assert table.match("/api/web/public") == exact
    assert table.match("/api/web/public/x") != exact
    assert table.match("/api/web/public/x") is not None


def test_the_first_of_two_routes_for_one_exact_path_wins() -> None:
    first, second = route("/same", match="Exact"), route("/same", match="Exact", rewrite="/x")

    assert RouteTable([first, second]).match("/same") is first


MIXED = [
    route("/"),
    route("/api/"),
    route("/api/web"),
    route("/api/web/public/"),
    route("/api/web/public", match="Exact"),
    route("/api/web/", match="Exact"),
    route("/auth/token", match="Exact"),
    route("/a"),
]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/a",
        "/a/",
        "/ab",
        "/api",
        "/api/",
        "/api/web",
        "/api/web/",
        "/api/web/x",
        "/api/web/public",
        "/api/web/public/",
        "/api/web/publicity",
        "/auth/token",
        "/auth/token/x",
        "/auth",
    ],
)
def test_the_table_picks_the_first_route_in_its_order_that_matches(path: str) -> None:
    table = RouteTable(MIXED)

    expected = next(candidate for candidate in table.routes if candidate.matches(path))
    assert table.match(path) is expected


@pytest.mark.parametrize(
    ("prefix", "rewrite", "raw", "upstream"),
    [
        ("/api/web", "/", b"/api/web/dashboard", b"/dashboard"),
        ("/api/web", "/", b"/api/web", b"/"),
        ("/api/web/", "/v2", b"/api/web/a%20b/c", b"/v2/a%20b/c"),
        ("/", "/v1", b"/x", b"/v1/x"),
    ],
)
def test_rewrite_replaces_the_matched_prefix_and_keeps_the_rest_byte_for_byte(
    prefix: str, rewrite: str, raw: bytes, upstream: bytes
) -> None:
    assert route(prefix, rewrite=rewrite).upstream_path(raw) == upstream


def test_without_rewrite_the_raw_path_goes_upstream_unchanged() -> None:
    assert WEB.upstream_path(b"/api/web/caf%C3%A9") == b"/api/web/caf%C3%A9"


@pytest.mark.parametrize(
    "raw",
    [
        b"/a/../b",
        b"/a/./b",
        b"/a/..",
        b"/a/%2e%2e/b",
        b"/a/%2E%2E/b",
        b"/a/.%2e/b",
        b"/a/%2fb",
        b"/a%2Fb",
        b"/a%5cb",
        b"/a%5Cb",
        b"/a\\b",
        b"/a%00b",
        b"/a\x00b",
        b"/a\x1fb",
        b"/a\x7fb",
        b"/a%0ab",
        b"/a%0D%0Ab",
        b"/a/%252e%252e/b",
        b"/a/%ff",
        b"/a/%C3%28",
        b"relative/path",
        b"",
    ],
)
def test_ambiguous_paths_are_refused(raw: bytes) -> None:
    with pytest.raises(BadPath):
        validate_path(raw)


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (b"/", "/"),
        (b"/api/web/dashboard", "/api/web/dashboard"),
        (b"/a%20b", "/a b"),
        (b"/caf%C3%A9", "/café"),
        (b"/orders/o-1.json", "/orders/o-1.json"),
        (b"/a/...", "/a/..."),
        (b"/a/.hidden", "/a/.hidden"),
    ],
)
def test_plain_paths_are_accepted_and_decoded(raw: bytes, decoded: str) -> None:
    assert validate_path(raw) == decoded
