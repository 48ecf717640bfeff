"""The route file: reloaded on SIGHUP in dev mode, and a bad one stops startup with a clear line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import REPO_ROOT
from tests.integration.edge_harness import ROUTES, EdgeUnderTest, edge_under_test
from tests.running_stack import free_port

pytestmark = pytest.mark.integration

ADDED_ROUTE = (
    "  - {name: added, path: {value: /added}, upstream: echo, auth: none}\n"
    # An audience no route accepted before: the reloaded verifier must accept it too.
    "  - {name: added-late, path: {value: /added-late}, upstream: echo, audiences: [late]}\n"
)


@pytest.fixture(scope="module")
def routes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edge-route-file-routes") / "routes.yaml"
    shutil.copyfile(ROUTES, path)
    return path


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, routes_file: Path) -> Iterator[EdgeUnderTest]:
    with edge_under_test(
        tmp_path_factory.mktemp("edge-route-file"),
        settings={"EDGE_ROUTES_FILE": str(routes_file)},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def reload_routes(edge: EdgeUnderTest) -> None:
    edge.stack.processes["edge0"].popen.send_signal(signal.SIGHUP)


def test_sighup_reloads_the_route_file(
    edge: EdgeUnderTest, client: httpx.Client, routes_file: Path
) -> None:
    assert client.get("/added/x").status_code == 404
    routes_file.write_text(routes_file.read_text() + ADDED_ROUTE)

    reload_routes(edge)

    assert wait_for(lambda: client.get("/added/x").status_code == 200)
    late = {"Authorization": f"Bearer {edge.token('late-app', aud='late')}"}
    assert client.get("/added-late/x", headers=late).status_code == 200
    assert client.get("/open/x").status_code == 200
    assert edge.stack.processes["edge0"].popen.poll() is None


def test_invalid_route_file_on_sighup_keeps_the_table_in_use(
    edge: EdgeUnderTest, client: httpx.Client, routes_file: Path
) -> None:
    if not routes_file.read_text().endswith(ADDED_ROUTE):  # run on its own
        routes_file.write_text(routes_file.read_text() + ADDED_ROUTE)
        reload_routes(edge)
        assert wait_for(lambda: client.get("/added/x").status_code == 200)
    output = edge.stack.processes["edge0"]
    refusals = output.output().count("route file not reloaded")
    routes_file.write_text(
        routes_file.read_text().replace(ADDED_ROUTE, "")
        + "  - {name: broken, path: {value: /broken}, upstream: echo, timeout_s: soon}\n"
    )

    reload_routes(edge)

    assert wait_for(lambda: output.output().count("route file not reloaded") > refusals)
    assert client.get("/added/x").status_code == 200
    assert client.get("/open/x").status_code == 200
    assert client.get("/broken/x").status_code == 404
    assert output.popen.poll() is None


def start_edge_with(
    edge: EdgeUnderTest, directory: Path, routes: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m edge` as the harness does, with this route file, until it exits."""
    routes_path = directory / "routes.yaml"
    routes_path.write_text(routes)
    env = {
        **os.environ,
        **edge.stack.specs["edge0"].env,
        "EDGE_ROUTES_FILE": str(routes_path),
        "EDGE_PORT": str(free_port()),
    }
    return subprocess.run(
        [sys.executable, "-m", "edge"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def assert_refused_to_start(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_wildcard_origin_with_credentials_stops_startup(
    edge: EdgeUnderTest, tmp_path: Path
) -> None:
    routes = """
cors:
  everyone:
    allow_origins: ["*"]
    allow_credentials: true
routes:
  - {name: api, path: {value: /api}, upstream: echo, cors: everyone}
"""
    result = start_edge_with(edge, tmp_path, routes)

    assert_refused_to_start(result, 'cors "everyone"', "credentials")


def test_misspelt_route_field_stops_startup_naming_route_and_field(
    edge: EdgeUnderTest, tmp_path: Path
) -> None:
    routes = """
routes:
  - {name: fine, path: {value: /fine}, upstream: echo}
  - {name: typo, path: {value: /typo}, upstream: echo, timeut_s: 5}
"""
    result = start_edge_with(edge, tmp_path, routes)

    assert_refused_to_start(result, 'route "typo"', "timeut_s")


def test_wrongly_typed_route_field_stops_startup_naming_route_and_field(
    edge: EdgeUnderTest, tmp_path: Path
) -> None:
    routes = """
routes:
  - {name: slow, path: {value: /slow}, upstream: echo, timeout_s: soon}
"""
    result = start_edge_with(edge, tmp_path, routes)

    assert_refused_to_start(result, 'route "slow"', "timeout_s", "float")
