"""Exercise 2: a `reports` route under /api/web/reports with its own policy, 5 a minute per user.

The route file is read with the edge's own loader; then a real edge, started by
the edge's test harness in front of its echo backend, serves the copy's routes
and must refuse the sixth report of a minute with a 429 problem.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from edge.route_file import load_route_table
from edge.routing import Route, RouteTable
from tests.integration.edge_harness import edge_under_test
from workshop.checks.route_files import (
    ROUTE_FILE,
    edge_upstreams,
    load_copy_routes,
    route_file_for_harness,
    route_for,
    upstream_name,
)
from workshop.checks.verdicts import copy_root, fail, require
from workshop.copies import GIT

REPORTS = "/api/web/reports"
ROUTE = "reports"
POLICY = "reports"
LIMIT = 5
WINDOW_S = 60
PROBLEM_JSON = "application/problem+json"
WHERE = f"{ROUTE_FILE} (its rules: docs/edge.md, 'The route file' and 'Rate limits')"


def routes_at_head(directory: Path) -> RouteTable:
    """The route file as the copy's commit has it: what the rest of the API had before."""
    # Our own git command on the copy: nothing from a user.
    shown = subprocess.run(  # noqa: S603
        [GIT, "-C", str(copy_root()), "show", f"HEAD:{ROUTE_FILE}"],
        capture_output=True,
        check=True,
    )
    original = directory / "routes-at-head.yaml"
    original.write_bytes(shown.stdout)
    return load_route_table(original, edge_upstreams())


def reports_route(table: RouteTable, path: str = REPORTS) -> Route:
    route = route_for(table, path)
    require(
        route.name == ROUTE,
        f"{path} takes the route {route.name!r}. Add a route named {ROUTE!r} to {WHERE} "
        f"that matches the prefix {REPORTS}: the longest matching prefix wins.",
    )
    return route


def test_reports_paths_take_the_reports_route() -> None:
    table = load_copy_routes()
    reports_route(table, f"{REPORTS}/monthly")
    route = reports_route(table)
    require(
        upstream_name(route) == "bff_web",
        f"The {ROUTE} route sends requests to {upstream_name(route)!r}; the web BFF builds the "
        "reports: upstream bff_web, as the web route has it.",
    )
    require(
        route.auth_required and "frontdoor" in route.audiences,
        f"Reports are personal: the {ROUTE} route must require a token (auth: required, the "
        "default) for the audience frontdoor, as the web route does.",
    )


def test_the_reports_route_has_its_own_policy_of_5_a_minute_per_user() -> None:
    policy = reports_route(load_copy_routes()).rate_limit
    if policy is None:
        fail(f"The {ROUTE} route has no rate_limit: name a policy of rate_limits in {WHERE}.")
    require(
        policy.name == POLICY,
        f"The {ROUTE} route spends the policy {policy.name!r}; give it one of its own, named "
        f"{POLICY!r}, so that reports cannot use up the rest of the API's quota.",
    )
    require(
        (policy.limit, policy.window_s) == (LIMIT, WINDOW_S),
        f"The {POLICY} policy allows {policy.limit} per {policy.window_s:g} s; the task is "
        f"{LIMIT} per {WINDOW_S} s.",
    )
    require(
        policy.key == "subject",
        f"The {POLICY} policy counts per {policy.key}; the task is per signed-in user (key: "
        "subject): users behind one address must not share a quota.",
    )


def test_the_rest_of_the_api_keeps_its_routes_and_policies(tmp_path: Path) -> None:
    before, now = routes_at_head(tmp_path), load_copy_routes()
    for path in ("/api/web/dashboard", "/api/web/orders", "/api/mobile/home", "/auth/token"):
        old, new = route_for(before, path), route_for(now, path)
        old_policy = old.rate_limit.name if old.rate_limit else None
        new_policy = new.rate_limit.name if new.rate_limit else None
        require(
            (new.name, new_policy, new.rate_limit) == (old.name, old_policy, old.rate_limit),
            f"{path} now takes the route {new.name!r} with the policy {new_policy!r}, where it "
            f"took {old.name!r} with {old_policy!r}: add the reports route beside the others, "
            "changing none of them.",
        )


@pytest.mark.integration
def test_the_sixth_report_in_a_minute_is_a_429_problem(tmp_path: Path) -> None:
    load_copy_routes()  # a file the edge would refuse fails here, with the edge's own message
    routes = route_file_for_harness(tmp_path)
    with (
        edge_under_test(tmp_path, settings={"EDGE_ROUTES_FILE": str(routes)}) as edge,
        edge.client() as client,
    ):
        bearer = {"Authorization": f"Bearer {edge.token(f'reports-{uuid.uuid4().hex}')}"}
        answers = [client.get(f"{REPORTS}/monthly", headers=bearer) for _ in range(LIMIT + 1)]
        statuses = [answer.status_code for answer in answers]
        require(
            statuses[:LIMIT] == [200] * LIMIT,
            f"The first {LIMIT} reports of a minute were answered {statuses[:LIMIT]}; "
            "all should go through (200).",
        )
        refused = answers[LIMIT]
        require(
            refused.status_code == 429,
            f"Report number {LIMIT + 1} of the minute was answered {refused.status_code}, not 429: "
            f"the edge did not apply a limit of {LIMIT} to {REPORTS}.",
        )
        require(
            refused.headers.get("content-type") == PROBLEM_JSON
            and "retry-after" in refused.headers,
            f"The 429 should be the edge's own problem+json with Retry-After; it came as "
            f"{refused.headers.get('content-type')!r}.",
        )
        require(
            answers[0].headers.get("ratelimit-policy") == f'"{POLICY}";q={LIMIT};w={WINDOW_S}',
            f"The reports' answers name the policy {answers[0].headers.get('ratelimit-policy')!r} "
            "in RateLimit-Policy; the reports policy should be the one they spend.",
        )
        dashboard = client.get("/api/web/dashboard", headers=bearer)
        require(
            dashboard.status_code == 200,
            f"After the refused report, the same user's dashboard was answered "
            f"{dashboard.status_code}: the reports' quota must be theirs alone.",
        )
