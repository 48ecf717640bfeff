"""Startup and operations: database configuration errors, readiness, the dev response delay."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import respx
from litestar.testing import AsyncTestClient

from service_defaults.settings import ConfigError
from services.orders.app import create_app
from tests.unit.orders.samples import ALICE, JWKS_URL, Auth, Client, MakeSettings


def test_missing_database_directory_names_the_variable(make_settings: MakeSettings) -> None:
    settings = make_settings(database_url="sqlite+aiosqlite:////no/such/dir/orders.db")

    with pytest.raises(ConfigError, match=r"^ORDERS_DATABASE_URL: .*/no/such/dir"):
        create_app(settings)


def test_malformed_database_url_names_the_variable(make_settings: MakeSettings) -> None:
    with pytest.raises(ConfigError, match=r"^ORDERS_DATABASE_URL"):
        create_app(make_settings(database_url="not a database url"))


def test_settings_come_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERS_DATABASE_URL", "sqlite+aiosqlite:////no/such/dir/orders.db")

    with pytest.raises(ConfigError, match="ORDERS_DATABASE_URL"):
        create_app()


async def test_unopenable_database_stops_startup_naming_the_variable(
    make_settings: MakeSettings, tmp_path: Path, jwks: respx.MockRouter
) -> None:
    # The path is a directory: SQLite cannot open it as a database file.
    app = create_app(make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}"))

    # The test client's task group wraps what the lifespan raised.
    expected = pytest.RaisesExc(
        ConfigError, match=r"^ORDERS_DATABASE_URL: cannot open the database"
    )
    with pytest.RaisesGroup(expected, flatten_subgroups=True):
        async with AsyncTestClient(app=app):
            pass


async def test_readiness_checks_the_database(client: Client) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readiness_does_not_wait_for_signing_keys(
    client: Client, jwks: respx.MockRouter
) -> None:
    keys = jwks.get(JWKS_URL).respond(503)

    response = await client.get("/readyz")

    assert response.status_code == 200
    assert not keys.called


async def test_health_endpoints_need_no_token(client: Client) -> None:
    assert (await client.get("/livez")).status_code == 200


async def test_dev_delay_slows_every_orders_request_but_not_health(
    make_settings: MakeSettings, jwks: respx.MockRouter, auth: Auth
) -> None:
    app = create_app(make_settings(dev_response_delay_ms=200))
    async with AsyncTestClient(app=app) as client:
        started = time.perf_counter()
        orders = await client.get("/orders/stats", headers=auth(ALICE))
        orders_s = time.perf_counter() - started
        started = time.perf_counter()
        await client.get("/livez")
        livez_s = time.perf_counter() - started

    assert orders.status_code == 200
    assert orders_s >= 0.2
    assert livez_s < 0.2
