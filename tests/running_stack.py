"""The real stack for the integration and browser tests: five processes, free ports, TLS.

Every password the tests send and every token they are issued is registered as a
secret; when the session ends, no process's output may hold one.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import yaml

from devstack.certs import ensure_dev_certificates
from devstack.stack import REPO_ROOT, ManagedProcess, Stack
from devstack.topology import DEFAULT_PORTS, Topology

SHIPPED_ROUTES = REPO_ROOT / "infra" / "edge" / "routes.yaml"
LogEntry = dict[str, Any]


class Secrets:
    """Values no process may ever write: passwords sent, tokens issued, Authorization values."""

    MASK = "[SECRET]"

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, value: str) -> str:
        # A value this short would be found by chance in unrelated text.
        assert len(value) >= 3, f"too short to look for: {value!r}"
        self.values.add(value)
        return value

    def mask(self, line: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            line = line.replace(value, self.MASK)
        return line

    def leaks(self, processes: Mapping[str, ManagedProcess]) -> list[str]:
        """`name: line` for every output line holding a secret, the secret masked."""
        found = []
        for name, process in processes.items():
            output = process.output()
            # One scan of the whole output per secret; lines only for the rare hit.
            if any(value in output for value in self.values):
                found += [
                    f"{name}: {self.mask(line)}"
                    for line in output.splitlines()
                    if any(value in line for value in self.values)
                ]
        return found


SECRETS = Secrets()


def log_entries(process: ManagedProcess) -> list[LogEntry]:
    """The process's JSON log lines, decoded; any other line is left out."""
    entries = []
    for line in list(process.lines):
        try:
            entry = msgspec.json.decode(line)
        except msgspec.DecodeError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def wait_for_entry(
    process: ManagedProcess, matches: Callable[[LogEntry], bool], timeout_s: float = 5.0
) -> LogEntry:
    """The first log entry that `matches`: a line is written after the response that caused
    it, and read from the pipe by another thread, so it may trail that response."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [entry for entry in log_entries(process) if matches(entry)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no such line in {process.spec.name}'s last lines")
        time.sleep(0.02)


def access_entry(process: ManagedProcess, request_id: str, path: str | None = None) -> LogEntry:
    """The access line of one request (of one path, when a request id is used twice)."""
    return wait_for_entry(
        process,
        lambda entry: (
            entry.get("event") == "request"
            and entry.get("request_id") == request_id
            and (path is None or entry.get("path") == path)
        ),
    )


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
def session_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Topology]]:
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
    leaks = SECRETS.leaks(stack.processes)
    if leaks:
        pytest.fail("secrets in the stack's output:\n" + "\n".join(leaks[:20]), pytrace=False)


# Module-scoped, though the stack lives for the session: a module that overrides
# `running` with a stack of its own then gets its own `stack` and `topology` too.
@pytest.fixture(scope="module")
def running(session_stack: tuple[Stack, Topology]) -> tuple[Stack, Topology]:
    """The stack the tests use: the session's, unless a module overrides it with its own."""
    return session_stack


@pytest.fixture(scope="module")
def stack(running: tuple[Stack, Topology]) -> Stack:
    return running[0]


@pytest.fixture(scope="module")
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
    # The demo users' passwords are their names.
    password = SECRETS.add(username)
    response = client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return SECRETS.add(token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": SECRETS.add(f"Bearer {token}")}


def wait_until_whole(client: httpx.Client, path: str, token: str) -> httpx.Response:
    """Poll a screen until no section is degraded (a BFF's circuit closes after its
    cool-down, on the first successful probe); give up after 20 s."""
    deadline = time.monotonic() + 20
    while True:
        response = client.get(path, headers=bearer(token))
        if not response.json().get("degraded") or time.monotonic() > deadline:
            return response
        time.sleep(0.2)
