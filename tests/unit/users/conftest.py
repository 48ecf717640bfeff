"""Fixtures for the users service: dev settings in a temporary directory, the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.users.app import create_app
from services.users.settings import Settings
from services.users.store import DEMO_USERS
from services.users.tables import MIGRATIONS
from tests.databases import NewDatabase, migrated

Client = AsyncTestClient[Litestar]
ALICE_ID = DEMO_USERS[0][0]
BOB_ID = DEMO_USERS[1][0]


@pytest.fixture
def database_url(new_database: NewDatabase) -> str:
    """A migrated database, SQLite or PostgreSQL: the tests that use it run on both."""
    return migrated(new_database("users"), MIGRATIONS)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        environment="dev",
        seed_demo_users=True,
        database_url=database_url,
        signing_keys_path=str(tmp_path / "keys.json"),
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def login(client: Client, username: str, password: str) -> str:
    response = await client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def alice_token(client: Client) -> str:
    return await login(client, "alice", "alice")
