"""Failure answers and fan-out timing, on real processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.stack import REPO_ROOT, Stack
from devstack.topology import Topology
from tests.running_stack import (
    access_entry,
    bearer,
    free_port,
    login,
    relaxed_route_file,
    start_stack,
    wait_until_whole,
)

pytestmark = pytest.mark.integration

DELAY_MS = "300"


def test_stopped_bff_is_a_502_problem_without_internal_names(
    edge: httpx.Client, stack: Stack, topology: Topology
) -> None:
    token = login(edge, "alice")
    stack.stop_process("bff_mobile")
    try:
        response = edge.get("/api/mobile/home", headers=bearer(token))
    finally:
        stack.start_process("bff_mobile")

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert str(topology.ports["bff_mobile"]) not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_orders_stopped_mid_run_degrades_the_dashboard_then_recovers(
    edge: httpx.Client, stack: Stack, topology: Topology
) -> None:
    token = login(edge, "alice")
    stack.stop_process("orders")
    try:
        # Each dashboard makes two failing calls to orders: three open its circuit (five).
        for _ in range(3):
            web = edge.get("/api/web/dashboard", headers=bearer(token))
        mobile = edge.get("/api/mobile/home", headers=bearer(token))
        readyz = httpx.get(topology.internal_url("bff_web") + "/readyz", trust_env=False)
    finally:
        stack.start_process("orders")
    # The BFFs' circuits for orders opened; each lets a probe through after its
    # cool-down, and the probe's success closes it.
    recovered = wait_until_whole(edge, "/api/web/dashboard", token)
    mobile_recovered = wait_until_whole(edge, "/api/mobile/home", token)

    assert web.status_code == 200
    assert web.json()["profile"]["display_name"] == "Alice Example"
    assert web.json()["recent_orders"] is None and web.json()["stats"] is None
    assert web.json()["degraded"] == ["recent_orders", "stats"]
    assert web.headers["x-degraded"] == "recent_orders, stats"
    assert mobile.status_code == 200
    assert mobile.json()["degraded"] == ["order_count", "last_order"]
    assert readyz.status_code == 200, "a failing service must not take the BFF out of rotation"
    assert readyz.json()["info"]["circuit:orders"] == "open"
    assert recovered.status_code == 200
    assert recovered.json()["degraded"] == []
    assert mobile_recovered.json()["degraded"] == []


def test_users_stopped_fails_the_page_it_is_required_for(edge: httpx.Client, stack: Stack) -> None:
    token = login(edge, "alice")
    stack.stop_process("users")
    try:
        response = edge.get("/api/web/dashboard", headers=bearer(token))
    finally:
        stack.start_process("users")

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORDERS_PORT", "eighty"),
        ("ORDERS_ENVIRONMENT", "staging"),
        ("ORDERS_DEV_RESPONSE_DELAY_MS", "100"),  # fault injection outside dev mode
        ("ORDERS_DATABASE_URL", "sqlite:////nonexistent/orders.db"),
        # A directory where the database file should be: found only when opened.
        ("ORDERS_DATABASE_URL", "sqlite:///{tmp}"),
    ],
)
def test_bad_setting_stops_startup_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.orders"],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "ORDERS_PORT": str(free_port()),
            variable: value.format(tmp=tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode != 0
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def slow_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Topology]]:
    state = tmp_path_factory.mktemp("slow")
    delay = {
        "edge": {"EDGE_ROUTES_FILE": str(relaxed_route_file(state))},
        "users": {"USERS_DEV_RESPONSE_DELAY_MS": DELAY_MS},
        "orders": {"ORDERS_DEV_RESPONSE_DELAY_MS": DELAY_MS},
    }
    stack, topology = start_stack(state, delay)
    try:
        yield stack, topology
    finally:
        stack.stop()


def handled_interval(access: dict[str, Any]) -> tuple[float, float]:
    start = float(access["start"])
    return start, start + float(access["duration_ms"]) / 1000


def test_web_bff_calls_users_and_orders_at_the_same_time(
    slow_services: tuple[Stack, Topology],
) -> None:
    stack, topology = slow_services
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as edge:
        token = login(edge, "alice")
        response = edge.get(
            "/api/web/dashboard", headers={**bearer(token), "X-Request-Id": "overlap-1"}
        )
    assert response.status_code == 200

    users = handled_interval(access_entry(stack.processes["users"], "overlap-1", "/users/me"))
    orders = handled_interval(access_entry(stack.processes["orders"], "overlap-1", "/orders"))

    # Each service held its request for the configured delay; called one after
    # the other, the two intervals could not intersect.
    assert users[0] < orders[1] and orders[0] < users[1], (users, orders)
