"""`python -m services.users.add_user`: the first users of a production deployment."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest

from service_defaults.database import open_database
from services.users.add_user import main
from services.users.passwords import verify_password
from services.users.store import UserStore

AddUser = Callable[[str], int]  # the password sent on stdin -> the exit status
ARGS = ["carol", "--display-name", "Carol Example", "--email", "carol@example.com"]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str) -> AddUser:
    monkeypatch.setenv("USERS_DATABASE_URL", database_url)

    def add(password: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return main(ARGS)

    return add


def credentials(database_url: str, username: str) -> tuple[str, str] | None:
    async def read() -> tuple[str, str] | None:
        async with open_database(database_url, setting="USERS_DATABASE_URL") as database:
            return await UserStore(database).credentials(username)

    return asyncio.run(read())


def test_added_user_has_the_password_from_stdin(
    run: AddUser, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("correct horse battery") == 0

    found = credentials(database_url, "carol")
    assert found is not None
    user_id, password_hash = found
    assert verify_password("correct horse battery", password_hash)
    assert capsys.readouterr().out == f"created user carol with id {user_id}\n"


def test_taken_username_is_refused(
    run: AddUser, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run("correct horse battery")

    assert run("another password") == 1
    assert "the username 'carol' is taken" in capsys.readouterr().err
    found = credentials(database_url, "carol")
    assert found is not None and verify_password("correct horse battery", found[1])


def test_short_password_creates_nothing(
    run: AddUser, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("short") == 2

    assert "length >= 8" in capsys.readouterr().err
    assert credentials(database_url, "carol") is None
