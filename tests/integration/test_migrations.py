"""`python -m services.<name> migrate` as replicas run it: all at once, on an empty
database, each to success, the schema built once; then the service starts on it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devstack.stack import REPO_ROOT
from tests.databases import NewDatabase

pytestmark = pytest.mark.integration

REPLICAS = 4


def migrate_at_once(service: str, url: str) -> list[subprocess.CompletedProcess[str]]:
    env = {"PATH": "/usr/bin:/bin", f"{service.upper()}_DATABASE_URL": url}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", f"services.{service}", "migrate"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    done = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return done


def messages(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [json.loads(line)["message"] for line in result.stderr.splitlines()]


@pytest.mark.parametrize("service", ["users", "orders"])
def test_replicas_migrating_an_empty_database_at_once_build_it_once(
    service: str, new_database: NewDatabase
) -> None:
    results = migrate_at_once(service, new_database(service))

    assert [r.returncode for r in results] == [0] * REPLICAS, [r.stderr for r in results]
    said = sorted(message for result in results for message in messages(result))
    # One replica migrated; the others waited for its lock, then found it done.
    assert said == [
        *["database schema already at revision 0001"] * (REPLICAS - 1),
        "database schema migrated from revision (empty) to 0001",
    ]
