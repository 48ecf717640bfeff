"""Demo seeding: both demo users get a mix of orders, once, however often the service restarts."""

from __future__ import annotations

from typing import Any

import respx
from litestar.testing import AsyncTestClient

from services.orders.app import create_app
from tests.unit.orders.samples import ALICE, BOB, Auth, MakeSettings, order_body


async def stats_after_start(settings_seed: bool, make_settings: MakeSettings, auth: Auth) -> Any:
    app = create_app(make_settings(seed_demo_data=settings_seed))
    async with AsyncTestClient(app=app) as client:
        return {
            user: (await client.get("/orders/stats", headers=auth(user))).json()
            for user in (ALICE, BOB)
        }


async def test_seed_gives_each_demo_user_a_mix_of_statuses(
    make_settings: MakeSettings, jwks: respx.MockRouter, auth: Auth
) -> None:
    stats = await stats_after_start(True, make_settings, auth)

    for user in (ALICE, BOB):
        assert stats[user]["order_count"] >= 3
        assert all(count >= 1 for count in stats[user]["by_status"].values()), stats[user]


async def test_seed_is_idempotent(
    make_settings: MakeSettings, jwks: respx.MockRouter, auth: Auth
) -> None:
    first = await stats_after_start(True, make_settings, auth)
    after_restart = await stats_after_start(True, make_settings, auth)

    assert after_restart == first


async def test_seed_leaves_a_demo_user_with_orders_alone(
    make_settings: MakeSettings, jwks: respx.MockRouter, auth: Auth
) -> None:
    async with AsyncTestClient(app=create_app(make_settings())) as client:
        await client.post("/orders", json=order_body(), headers=auth(ALICE))

    stats = await stats_after_start(True, make_settings, auth)

    assert stats[ALICE]["order_count"] == 1
    assert stats[BOB]["order_count"] >= 3


async def test_no_seed_without_the_setting(
    make_settings: MakeSettings, jwks: respx.MockRouter, auth: Auth
) -> None:
    stats = await stats_after_start(False, make_settings, auth)

    assert stats[ALICE]["order_count"] == stats[BOB]["order_count"] == 0
