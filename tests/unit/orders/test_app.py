"""Startup and operations: database configuration errors, readiness, the dev response delay."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import respx
from litestar.testing import AsyncTestClient

from services.orders.app import create_app
from tests.unit.orders.samples import ALICE, JWKS_URL, Auth, Client, MakeSettings
from tests.unit.startup import refuses_to_start, start_and_stop

# The database is opened by the lifespan, not by `create_app`: these tests start the app.


async def test_missing_database_directory_names_the_variable(make_settings: MakeSettings) -> None:
    app = create_app(make_settings(database_url="sqlite:////no/such/dir/orders.db"))

    with refuses_to_start(r"^ORDERS_DATABASE_URL: .*/no/such/dir"):
        await start_and_stop(app)


async def test_malformed_database_url_names_the_variable(make_settings: MakeSettings) -> None:
    app = create_app(make_settings(database_url="not a database url"))

    with refuses_to_start(r"^ORDERS_DATABASE_URL"):
        await start_and_stop(app)


async def test_settings_come_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERS_DATABASE_URL", "sqlite:////no/such/dir/orders.db")
    app = create_app()

    with refuses_to_start("ORDERS_DATABASE_URL"):
        await start_and_stop(app)


async def test_unopenable_database_stops_startup_naming_the_variable(
    make_settings: MakeSettings, tmp_path: Path, jwks: respx.MockRouter
) -> None:
    # The path is a directory: SQLite cannot open it as a database file.
    app = create_app(make_settings(database_url=f"sqlite:///{tmp_path}"))

    with refuses_to_start(r"^ORDERS_DATABASE_URL: cannot open the database"):
        await start_and_stop(app)


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
