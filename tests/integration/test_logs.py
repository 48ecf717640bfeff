"""What the processes write: one JSON object per line, and never a password, token or credential."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from devstack.stack import REPO_ROOT, Stack
from devstack.topology import Topology
from services.users.store import DEMO_USERS
from tests.running_stack import SECRETS, access_entry, bearer, free_port, log_entries, login

pytestmark = pytest.mark.integration

SHARED_FIELDS = {"time", "level", "service", "logger", "message"}
ACCESS_FIELDS = {"request_id", "method", "route", "path", "status", "duration_ms", "start"}
# The demo users' passwords are their names (see services/users/store.py).
DEMO_PASSWORDS = [username for _, username, _, _ in DEMO_USERS]


@pytest.fixture(scope="module")
def traffic(topology: Topology, stack: Stack) -> str:
    """Requests carrying credentials of every kind, right and wrong; the last one's id."""
    marker = uuid.uuid4().hex
    wrong_password = SECRETS.add(f"wrong-password-{marker}")
    made_up = SECRETS.add(f"not-a-token-{marker}")
    cookie = SECRETS.add(f"session-{marker}")
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as edge:
        for username in DEMO_PASSWORDS:
            token = login(edge, username)
            edge.get("/api/mobile/home", headers=bearer(token))
        refused = edge.post("/auth/token", json={"username": "alice", "password": wrong_password})
        assert refused.status_code == 401
        # Cut short: the body cannot be decoded, and must not be echoed into a log.
        truncated = b'{"username": "alice", "password": "' + wrong_password.encode()
        malformed = edge.post(
            "/auth/token", content=truncated, headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        assert edge.get("/api/web/dashboard", headers=bearer(made_up)).status_code == 401
        # Straight to a service: its own verification refuses the made-up token.
        direct = httpx.get(
            f"{topology.internal_url('orders')}/orders",
            headers=bearer(made_up),
            trust_env=False,
        )
        assert direct.status_code == 401
        last = edge.get(
            "/api/web/dashboard",
            headers={**bearer(token), "Cookie": f"sid={cookie}", "X-Request-Id": f"logs-{marker}"},
        )
        assert last.status_code == 200
    for process in ("edge", "bff_web", "users", "orders"):
        access_entry(stack.processes[process], f"logs-{marker}")  # waits for its line
    return f"logs-{marker}"


def test_every_line_of_every_process_is_a_json_object_with_the_shared_fields(
    traffic: str, stack: Stack
) -> None:
    for name, process in stack.processes.items():
        lines = list(process.lines)
        assert lines, f"{name} wrote nothing"
        for line in lines:
            entry = json.loads(line)
            assert isinstance(entry, dict), f"{name}: {line}"
            assert entry.keys() >= SHARED_FIELDS, f"{name}: {line}"


def test_each_process_names_itself_on_its_lines(traffic: str, stack: Stack) -> None:
    for name in ("edge", "bff_web", "bff_mobile", "users", "orders"):
        services = {entry["service"] for entry in log_entries(stack.processes[name])}
        assert services == {name}


def test_every_access_line_has_its_request_id_and_fields(traffic: str, stack: Stack) -> None:
    for name, process in stack.processes.items():
        for entry in log_entries(process):
            if entry.get("event") == "request":
                assert entry.keys() >= ACCESS_FIELDS, f"{name}: {entry}"
                assert entry["request_id"], f"{name}: {entry}"


def test_one_request_is_found_by_its_id_in_every_process_it_crossed(
    traffic: str, stack: Stack
) -> None:
    edge = access_entry(stack.processes["edge"], traffic)
    bff = access_entry(stack.processes["bff_web"], traffic)
    users = access_entry(stack.processes["users"], traffic, "/users/me")

    assert (edge["route"], edge["path"], edge["status"]) == ("web", "/api/web/dashboard", 200)
    assert (bff["route"], bff["status"]) == ("/api/web/dashboard", 200)
    assert users["route"] == "/users/me"
    # The services' work happened within the edge's time for the request.
    assert edge["start"] <= users["start"]


def test_the_edges_access_lines_name_the_client(traffic: str, stack: Stack) -> None:
    assert access_entry(stack.processes["edge"], traffic).get("client") == "127.0.0.1"


def test_no_password_token_or_credential_appears_in_any_output(traffic: str, stack: Stack) -> None:
    secrets = [*SECRETS.values, *DEMO_PASSWORDS]

    leaks = [
        f"{name}: {SECRETS.mask(line)}"
        for name, process in stack.processes.items()
        for line in process.lines
        if any(secret in line for secret in secrets)
    ]

    assert leaks == []


def test_an_unknown_log_format_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run_users(tmp_path, FRONTDOOR_LOG_FORMAT="xml")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "users: configuration error: FRONTDOOR_LOG_FORMAT: 'xml' is not one of 'json', 'text'"
    ]


def test_text_format_writes_lines_for_people(tmp_path: Path) -> None:
    # A database that cannot be opened: the process logs its start-up, then stops.
    result = run_users(tmp_path, FRONTDOOR_LOG_FORMAT="text", USERS_DATABASE_URL="not a url")

    lines = result.stderr.splitlines()
    assert result.returncode == 2
    assert any(" INFO uvicorn.error: Started server process" in line for line in lines), lines
    assert not any(line.startswith("{") for line in lines), lines


def run_users(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.users"],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "USERS_PORT": str(free_port()),
            "USERS_ENVIRONMENT": "dev",
            "USERS_SIGNING_KEYS_PATH": str(tmp_path / "keys.json"),
            "USERS_DATABASE_URL": f"sqlite:///{tmp_path}/users.db",
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
