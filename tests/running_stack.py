"""The real stack for the integration and browser tests: five processes, free ports, TLS."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import yaml

from devstack.certs import ensure_dev_certificates
from devstack.stack import REPO_ROOT, Stack
from devstack.topology import DEFAULT_PORTS, Topology

SHIPPED_ROUTES = REPO_ROOT / "infra" / "edge" / "routes.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_stack(
    state_dir: Path, overrides: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[Stack, Topology]:
    certs = ensure_dev_certificates(state_dir / "certs")
    topology = Topology(
        ports={name: free_port() for name in DEFAULT_PORTS},
        state_dir=state_dir,
        certs=certs,
        overrides=overrides or {},
    )
    stack = Stack(topology.specs(), tls=certs.client_context(), echo=False)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack, topology


def relaxed_route_file(directory: Path) -> Path:
    """The shipped route file with roomy limits: these tests log in far more than a person."""
    spec = yaml.safe_load(SHIPPED_ROUTES.read_text())
    for policy in spec["rate_limits"].values():
        policy["limit"] = 100_000
    path = directory / "routes.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Topology]]:
    state = tmp_path_factory.mktemp("stack")
    routes = relaxed_route_file(state)
    stack, topology = start_stack(
        state,
        {
            "edge": {"EDGE_ROUTES_FILE": str(routes)},
            # A short screen budget, so that deadline tests wait 2 s, not 5, and a
            # short circuit cool-down, so that a test that opens one can close it.
            "bff_web": {"BFF_WEB_REQUEST_BUDGET_S": "2", "BFF_WEB_BREAKER_RESET_AFTER_S": "1"},
            "bff_mobile": {
                "BFF_MOBILE_REQUEST_BUDGET_S": "2",
                "BFF_MOBILE_BREAKER_RESET_AFTER_S": "1",
            },
        },
    )
    try:
        yield stack, topology
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack(running: tuple[Stack, Topology]) -> Stack:
    return running[0]


@pytest.fixture(scope="session")
def topology(running: tuple[Stack, Topology]) -> Topology:
    return running[1]


@pytest.fixture
def edge(topology: Topology) -> Iterator[httpx.Client]:
    """A client of the edge that trusts only the stack's own development CA."""
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as client:
        yield client


def login(client: httpx.Client, username: str) -> str:
    response = client.post("/auth/token", json={"username": username, "password": username})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_until_whole(client: httpx.Client, path: str, token: str) -> httpx.Response:
    """Poll a screen until no section is degraded (a BFF's circuit closes after its
    cool-down, on the first successful probe); give up after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        response = client.get(path, headers=bearer(token))
        if not response.json().get("degraded") or time.monotonic() > deadline:
            return response
        time.sleep(0.2)
