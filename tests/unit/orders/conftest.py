"""Fixtures for the orders service: a test issuer, its JWKS served by respx, the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import respx
from litestar.testing import AsyncTestClient

from services.orders.app import create_app
from services.orders.settings import Settings
from services.orders.tables import MIGRATIONS
from tests.databases import NewDatabase, migrated
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer
from tests.unit.orders.samples import JWKS_URL, Auth, Client, MakeSettings


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def jwks(issuer: TestIssuer) -> Iterator[respx.MockRouter]:
    # Mocked at httpx's level, whatever transport the client uses; the test
    # client's own requests to the app pass through.
    with respx.mock(assert_all_called=False, using="httpx") as router:
        router.route(host="testserver.local").pass_through()
        router.route(host="orders.test").pass_through()
        router.get(JWKS_URL).respond(json=issuer.jwks())
        yield router


@pytest.fixture
def database_url(new_database: NewDatabase) -> str:
    """A migrated database, SQLite or PostgreSQL: the tests that use it run on both."""
    return migrated(new_database("orders"), MIGRATIONS)


@pytest.fixture
def make_settings(database_url: str) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "environment": "dev",
            "jwks_url": JWKS_URL,
            "token_issuer": ISSUER,
            "token_audience": AUDIENCE,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture
async def client(make_settings: MakeSettings, jwks: respx.MockRouter) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(make_settings())) as client:
        yield client


@pytest.fixture
def auth(issuer: TestIssuer) -> Auth:
    """Headers that authenticate as the given subject."""

    def headers(subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.token(subject)}"}

    return headers


@pytest.fixture
async def seeded_client(
    make_settings: MakeSettings, jwks: respx.MockRouter
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(make_settings(seed_demo_data=True))) as client:
        yield client
