"""`python -m services.users.add_user` as an operator runs it: on a migrated database,
then the running users service signs the new user in with that password."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devstack.stack import REPO_ROOT
from tests.databases import NewDatabase
from tests.running_stack import free_port

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"


def users_env(url: str, keys: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "USERS_DATABASE_URL": url,
        "USERS_SIGNING_KEYS_PATH": str(keys),
    }


def users_command(
    url: str, keys: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=users_env(url, keys),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_added_user_signs_in_at_the_running_service(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    url, keys, port = new_database("users"), tmp_path / "keys.json", free_port()
    migrated = users_command(url, keys, "services.users", "migrate")
    rotated = users_command(url, keys, "services.users.rotate_keys")
    added = users_command(
        url,
        keys,
        "services.users.add_user",
        "carol",
        "--display-name",
        "Carol Example",
        "--email",
        "carol@example.com",
        stdin=PASSWORD + "\n",
    )
    assert (migrated.returncode, rotated.returncode) == (0, 0), migrated.stderr + rotated.stderr
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("created user carol with id ")

    # Production mode, the default: no demo users, so carol is the only one there is.
    server = subprocess.Popen(
        [sys.executable, "-m", "services.users"],
        cwd=REPO_ROOT,
        env=users_env(url, keys) | {"USERS_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            right = client.post("/auth/token", json={"username": "carol", "password": PASSWORD})
            wrong = client.post("/auth/token", json={"username": "carol", "password": "nope"})
            me = client.get(
                "/users/me", headers={"Authorization": f"Bearer {right.json()['access_token']}"}
            )
    finally:
        server.terminate()
        server.wait(10)

    assert right.status_code == 200, right.text
    assert wrong.status_code == 401
    assert me.json()["display_name"] == "Carol Example"
    assert added.stdout.strip().endswith(me.json()["id"])
