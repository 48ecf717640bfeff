"""A service that cannot open or migrate its database stops with one line naming the
setting, and one that finds its schema missing names the command that makes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import REPO_ROOT
from tests.running_stack import free_port

pytestmark = pytest.mark.integration

SERVICES = {"users": "USERS_", "orders": "ORDERS_"}
BAD_URLS = {
    "driver missing": "mysql+mysqldb://app:secret@127.0.0.1/app",
    # Nothing listens on port 1: the connection is refused.
    "connection refused": "postgresql+psycopg://app:secret@127.0.0.1:1/app",
    "not a URL": "not a database url",
    "no such directory": "sqlite:////nonexistent/app.db",
    # A directory where the database file should be: found only when opened.
    "unopenable": "sqlite:///{tmp}",
}


def start(
    service: str, tmp_path: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python -m services.<service> [args]`, to its end (a server that starts is a failure)."""
    prefix = SERVICES[service]
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}", *args],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            f"{prefix}PORT": str(free_port()),
            f"{prefix}ENVIRONMENT": "dev",
            "USERS_SIGNING_KEYS_PATH": str(tmp_path / "keys.json"),
            **{f"{prefix}{name.upper()}": value for name, value in settings.items()},
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def problems(stderr: str) -> list[str]:
    """The lines that are not the server's routine INFO lines (JSON objects)."""
    return [line for line in stderr.splitlines() if not line.startswith('{"') or not is_info(line)]


def is_info(line: str) -> bool:
    entry = json.loads(line)
    return isinstance(entry, dict) and entry.get("level") == "INFO"


@pytest.mark.parametrize("command", [(), ("migrate",)], ids=["serve", "migrate"])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case", BAD_URLS)
def test_unusable_database_url_stops_startup_with_one_line(
    command: tuple[str, ...], service: str, case: str, tmp_path: Path
) -> None:
    url = BAD_URLS[case].format(tmp=tmp_path)

    result = start(service, tmp_path, *command, database_url=url)

    variable = f"{SERVICES[service]}DATABASE_URL"
    assert result.returncode == 2
    [line] = problems(result.stderr)
    assert line.startswith(f"{service}: configuration error: {variable}: "), line
    assert "secret" not in result.stderr  # a URL's password never reaches the log
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_unmigrated_database_stops_startup_naming_the_migrate_command(
    service: str, tmp_path: Path
) -> None:
    result = start(service, tmp_path, database_url=f"sqlite:///{tmp_path}/empty.db")

    variable = f"{SERVICES[service]}DATABASE_URL"
    assert result.returncode == 2
    assert problems(result.stderr) == [
        f"{service}: configuration error: {variable}: the database has no schema; "
        f"run `python -m services.{service} migrate`"
    ]
