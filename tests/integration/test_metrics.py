"""Every process's `/metrics`, read over loopback after traffic through the edge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import REPO_ROOT
from devstack.topology import ENV_PREFIX, MODULES, Topology
from tests.running_stack import bearer, free_port, login

pytestmark = pytest.mark.integration

PROCESSES = ("edge", "bff_web", "bff_mobile", "users", "orders")
PROCESS_SERIES = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "python_gc_collections_total",
)
# The route each process names for a request of the traffic below.
ROUTES = {
    "edge": {("web", "GET", "200"), ("mobile", "GET", "200"), ("token", "POST", "200")},
    "bff_web": {("/api/web/dashboard", "GET", "200"), ("/api/web/orders/{order_id}", "GET", "200")},
    "bff_mobile": {("/api/mobile/home", "GET", "200")},
    "users": {("/auth/token", "POST", "200"), ("/users/me", "GET", "200")},
    "orders": {("/orders", "GET", "200"), ("/orders/{order_id}", "GET", "200")},
}


class Traffic:
    """Each process's metrics as read after the traffic, and an order whose page was loaded."""

    def __init__(self, texts: dict[str, str], order_id: str) -> None:
        self.texts = texts
        self.scraped = {
            process: [s for family in text_string_to_metric_families(text) for s in family.samples]
            for process, text in texts.items()
        }
        self.order_id = order_id

    def values(self, process: str, name: str, **labels: str) -> list[float]:
        return [
            s.value
            for s in self.scraped[process]
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]


def scrape(topology: Topology, process: str) -> str:
    """The process's /metrics, fetched over loopback (every process listens on 127.0.0.1)."""
    base = topology.edge_url if process == "edge" else topology.internal_url(process)
    response = httpx.get(
        f"{base}/metrics", verify=topology.certs.client_context(), trust_env=False, timeout=5
    )
    assert response.status_code == 200, f"{process}: {response.status_code}"
    return response.text


@pytest.fixture(scope="module")
def traffic(topology: Topology) -> Traffic:
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as edge:
        token = login(edge, "alice")
        assert edge.get("/").status_code == 200
        dashboard = edge.get("/api/web/dashboard", headers=bearer(token))
        assert dashboard.status_code == 200, dashboard.text
        order_id = dashboard.json()["recent_orders"][0]["id"]
        assert edge.get(f"/api/web/orders/{order_id}", headers=bearer(token)).status_code == 200
        assert edge.get("/api/mobile/home", headers=bearer(token)).status_code == 200
    return Traffic({process: scrape(topology, process) for process in PROCESSES}, order_id)


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_counts_its_requests_by_route_method_and_status(
    traffic: Traffic, process: str
) -> None:
    series = {
        (s.labels["route"], s.labels["method"], s.labels["status"])
        for s in traffic.scraped[process]
        if s.name == "frontdoor_http_requests_total" and s.value >= 1
    }

    assert ROUTES[process] <= series, sorted(series)


def test_no_series_is_labelled_with_an_id_from_a_path(traffic: Traffic) -> None:
    holding = [process for process, text in traffic.texts.items() if traffic.order_id in text]

    assert holding == []


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_times_its_requests_by_route(traffic: Traffic, process: str) -> None:
    route = sorted(ROUTES[process])[0]
    counts = traffic.values(
        process, "frontdoor_http_request_duration_seconds_count", route=route[0], method=route[1]
    )

    assert counts and counts[0] >= 1


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_reports_its_cpu_memory_files_and_gc(traffic: Traffic, process: str) -> None:
    names = {s.name for s in traffic.scraped[process]}

    assert set(PROCESS_SERIES) <= names
    assert traffic.values(process, "process_resident_memory_bytes")[0] > 0
    assert traffic.values(process, "process_open_fds")[0] > 0


@pytest.mark.parametrize("process", ["bff_web", "bff_mobile"])
@pytest.mark.parametrize("upstream", ["users", "orders"])
def test_bffs_time_their_calls_to_each_service(
    traffic: Traffic, process: str, upstream: str
) -> None:
    name = "frontdoor_bff_upstream_call_duration_seconds"

    [count] = traffic.values(process, f"{name}_count", upstream=upstream, outcome="ok")
    assert count >= 1
    assert traffic.values(process, f"{name}_bucket", upstream=upstream, outcome="ok", le="+Inf")
    assert traffic.values(process, "frontdoor_bff_upstream_calls_total", upstream=upstream)


def test_the_edge_counts_its_rate_limit_decisions(traffic: Traffic) -> None:
    name = "frontdoor_edge_rate_limit_decisions_total"

    assert traffic.values("edge", name, policy="login", decision="allowed")[0] >= 1
    assert traffic.values("edge", name, policy="api", decision="allowed")[0] >= 1


@pytest.mark.parametrize("process", ["edge", "orders"])
def test_token_verifiers_count_their_jwks_fetches(traffic: Traffic, process: str) -> None:
    name = "frontdoor_jwks_fetches_total"

    assert traffic.values(process, name, outcome="ok")[0] >= 1
    assert len(traffic.values(process, name, outcome="failed")) == 1  # shown before any failure


@pytest.mark.parametrize("process", PROCESSES)
def test_a_bad_metrics_allow_list_stops_start_up_with_one_line(
    process: str, tmp_path: Path
) -> None:
    prefix = ENV_PREFIX[process]
    result = subprocess.run(
        [sys.executable, "-m", MODULES[process]],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            f"{prefix}PORT": str(free_port()),
            # The edge reads its certificate's path before anything else.
            "EDGE_TLS_CERTFILE": str(tmp_path / "cert.pem"),
            "EDGE_TLS_KEYFILE": str(tmp_path / "key.pem"),
            f"{prefix}METRICS_ALLOWED_FROM": '["10.0.0.0/8", "everyone"]',
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{process}: configuration error: {prefix}METRICS_ALLOWED_FROM: "
        "'everyone' is not an IP network"
    ]
