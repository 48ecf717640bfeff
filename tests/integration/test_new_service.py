"""`make new-service NAME=inventory`, in a copy of this work tree: bad and clashing names
are refused with nothing written; the service it adds is lint-clean and typed, passes its
own tests and the ones that list every deployable, and starts with `make run`, answering
where a BFF would call it but not through the edge."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.stack import REPO_ROOT
from devstack.topology import ENV_PREFIX
from tests.supervisor import Supervisor, alive, supervised

pytestmark = pytest.mark.integration

NAME = "inventory"
PREFIX = "INVENTORY_"
PROBLEM_JSON = "application/problem+json"
# The tests that list every deployable, which the scaffold extends.
LISTING_TESTS = [
    "tests/unit/test_skeleton.py",
    "tests/unit/test_boundaries.py",
    "tests/unit/test_deployment_manifests.py",
    "tests/unit/test_compose_files.py",
    "tests/unit/test_metrics_endpoints.py",
    "tests/unit/test_gateway_overlay.py",
    "tests/unit/devstack/test_topology.py",
]


def copy_work_tree(target: Path) -> None:
    """Every file git tracks or would track, as it is now: uncommitted work included."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    for name in listed.stdout.decode().split("\0"):
        source = REPO_ROOT / name
        if name and source.is_file():  # a tracked file deleted in the work tree is not
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def environment(**extra: str) -> dict[str, str]:
    """This environment without any process's settings: the copy's defaults apply."""
    prefixes = (*ENV_PREFIX.values(), PREFIX)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return env | {"PYTHONDONTWRITEBYTECODE": "1"} | extra


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    output: str
    touched: list[str]  # every file the scaffold created or changed


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repository")
    copy_work_tree(root)
    return root


@pytest.fixture(scope="module")
def scaffolded(copy: Path) -> Scaffolded:
    before = snapshot(copy)
    done = run(copy, "-m", "scaffold", NAME)
    assert done.returncode == 0, done.stdout + done.stderr
    after = snapshot(copy)
    touched = sorted(path for path, stat in after.items() if before.get(path) != stat)
    return Scaffolded(copy, done.stdout, touched)


@pytest.mark.parametrize(
    "name",
    ["Inventory", "stock-levels", "class", "json", "yaml", "orders", "bff_web", "bff", ""],
)
def test_a_bad_or_clashing_name_is_refused_in_one_line_and_nothing_is_written(
    copy: Path, name: str
) -> None:
    before = snapshot(copy)

    done = run(copy, "-m", "scaffold", name)

    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"new-service: cannot add {name!r}: " if name else "usage: ")
    assert snapshot(copy) == before


def test_the_new_service_is_lint_clean_typed_and_passes_the_tests_that_list_deployables(
    scaffolded: Scaffolded, tmp_path: Path
) -> None:
    root, touched = scaffolded.root, scaffolded.touched
    python = [path for path in touched if path.endswith(".py")]
    assert f"services/{NAME}/app.py" in python
    assert {"devstack/topology.py", "infra/k8s/network-policies.yaml"} <= set(touched)
    assert f"services/{NAME}/" in scaffolded.output
    assert "Next steps:" in scaffolded.output
    # mypy on the files the scaffold touched, beside the tests: the whole tree takes a minute.
    mypy = subprocess.Popen(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), *python],
        cwd=root,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        tests = run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", *unit_tests())
        lint = run(root, "-m", "ruff", "check", *python)
        formatted = run(root, "-m", "ruff", "format", "--check", *python)
        typed = mypy.communicate(timeout=300)[0]
    finally:
        if mypy.poll() is None:
            mypy.kill()
            mypy.communicate()

    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout.splitlines()[-1]
    assert lint.returncode == 0, lint.stdout
    assert formatted.returncode == 0, formatted.stdout
    assert mypy.returncode == 0, typed


def test_the_same_name_a_second_time_is_refused(scaffolded: Scaffolded) -> None:
    before = snapshot(scaffolded.root)

    again = run(scaffolded.root, "-m", "scaffold", NAME)

    assert again.returncode == 2
    assert (
        again.stderr == f"new-service: cannot add '{NAME}': it is taken: services/{NAME}/ exists\n"
    )
    assert snapshot(scaffolded.root) == before


def unit_tests() -> list[str]:
    return [f"tests/unit/{NAME}", *LISTING_TESTS]


@pytest.fixture
def supervisor(scaffolded: Scaffolded, tmp_path: Path) -> Iterator[Supervisor]:
    """The copy's `make run`, its new service on a free port too."""
    with supervised(
        tmp_path / "state",
        root=scaffolded.root,
        prefixes={**ENV_PREFIX, NAME: PREFIX},
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    ) as running:
        yield running


def bearer(edge: httpx.Client, username: str) -> dict[str, str]:
    # The demo users' passwords are their names.
    issued = edge.post("/auth/token", json={"username": username, "password": username})
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def test_the_new_service_runs_in_the_stack_reachable_inside_but_not_through_the_edge(
    supervisor: Supervisor,
) -> None:
    supervisor.wait_up()
    children = supervisor.children()
    assert f"services.{NAME}" in children.values()
    tls = ssl.create_default_context(cafile=supervisor.state_dir / "certs" / "ca.pem")
    edge_url = f"https://localhost:{supervisor.ports['edge']}"

    with (
        httpx.Client(base_url=edge_url, verify=tls, trust_env=False, timeout=10) as edge,
        # Where a BFF calls it: the service's own address, never back through the edge.
        httpx.Client(base_url=supervisor.url(NAME), trust_env=False, timeout=10) as inside,
    ):
        ready = inside.get("/readyz")
        alice, bob = bearer(edge, "alice"), bearer(edge, "bob")
        created = inside.post(f"/{NAME}", json={"name": "Coffee grinder"}, headers=alice)
        mine = inside.get(f"/{NAME}", headers=alice)
        theirs = inside.get(f"/{NAME}", headers=bob)
        anonymous = inside.get(f"/{NAME}")
        through_edge = edge.get(f"/{NAME}", headers=alice)

    assert ready.status_code == 200, ready.text
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Coffee grinder"
    assert mine.json() == {"items": [created.json()]}
    assert theirs.json() == {"items": []}
    assert anonymous.status_code == 401
    # The edge has no route for it: a 404 of its own, no upstream called.
    assert through_edge.status_code == 404
    assert through_edge.headers["content-type"] == PROBLEM_JSON

    supervisor.popen.send_signal(signal.SIGINT)

    assert supervisor.popen.wait(30) == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]
