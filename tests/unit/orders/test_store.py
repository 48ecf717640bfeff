"""The store: demo seeding through the app; idempotency, cancelling and caching on their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import respx
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from service_defaults.database import Database, open_database
from services.orders.app import create_app
from services.orders.demo_data import DEMO_ORDERS
from services.orders.schemas import OrderCreate
from services.orders.store import IdempotencyConflict, OrderNotCancellable, OrderStore
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


async def test_seeded_orders_hold_their_items_and_totals(store: OrderStore) -> None:
    seeded = await store.seed_demo_data()

    page = await store.list_orders(ALICE, limit=50, cursor=None, status=None)
    assert seeded == len(DEMO_ORDERS[ALICE]) + len(DEMO_ORDERS[BOB])
    assert [len(order.items) for order in page.items] == [
        len(demo.body.items) for demo in sorted(DEMO_ORDERS[ALICE], key=lambda d: d.days_ago)
    ]
    assert all(o.total_minor == sum(i.line_total_minor for i in o.items) for o in page.items)


async def test_concurrent_seeding_writes_each_demo_order_once(store: OrderStore) -> None:
    seeded = await asyncio.gather(*(store.seed_demo_data() for _ in range(4)))

    page = await store.list_orders(ALICE, limit=50, cursor=None, status=None)
    assert sum(seeded) == len(DEMO_ORDERS[ALICE]) + len(DEMO_ORDERS[BOB])
    assert len(page.items) == len(DEMO_ORDERS[ALICE])


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


# The store on its own, on a real database: what the routes cannot show.


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url, setting="ORDERS_DATABASE_URL") as database:
        yield database


@pytest.fixture
async def store(database: Database) -> OrderStore:
    return OrderStore(database)


def cache_outcomes(database: Database) -> list[CacheStats]:
    """Whether each statement from now on found its compiled form in the engine's cache."""
    outcomes: list[CacheStats] = []

    def record(*args: Any) -> None:
        context = args[4]  # (conn, cursor, statement, parameters, context, executemany)
        outcomes.append(context.cache_hit)

    event.listen(database.engine, "after_cursor_execute", record)
    return outcomes


async def read_every_shape(store: OrderStore, owner: str, limit: int) -> None:
    first = await store.list_orders(owner, limit=limit, cursor=None, status=None)
    await store.list_orders(owner, limit=limit, cursor=first.next_cursor, status=None)
    await store.list_orders(owner, limit=limit, cursor=None, status="placed")
    await store.stats(owner)
    await store.get_order(owner, first.items[0].id)


async def test_hot_queries_are_compiled_once(store: OrderStore, database: Database) -> None:
    await store.seed_demo_data()
    await read_every_shape(store, ALICE, limit=1)
    outcomes = cache_outcomes(database)

    # Other owners, page sizes and cursors: the same statements, other parameters.
    await read_every_shape(store, BOB, limit=2)

    assert outcomes
    assert set(outcomes) == {CacheStats.CACHE_HIT}


async def test_concurrent_creates_with_one_key_make_one_order(store: OrderStore) -> None:
    body = msgspec.convert(order_body(1250, 399), OrderCreate)

    # Several at once: some pass the replay check together and meet at the key's
    # unique constraint, whose loser replays the winner's order.
    created = await asyncio.gather(*(store.create_order(ALICE, body, "key-1") for _ in range(8)))

    assert len({result.order.id for result in created}) == 1
    assert [result.replayed for result in created].count(False) == 1
    assert (await store.stats(ALICE)).order_count == 1


async def test_a_reused_key_with_another_body_conflicts(store: OrderStore) -> None:
    await store.create_order(ALICE, msgspec.convert(order_body(100), OrderCreate), "key-1")

    with pytest.raises(IdempotencyConflict):
        await store.create_order(ALICE, msgspec.convert(order_body(200), OrderCreate), "key-1")


async def test_a_shipped_order_is_not_cancellable(store: OrderStore) -> None:
    await store.seed_demo_data()
    shipped = await store.list_orders(ALICE, limit=1, cursor=None, status="shipped")

    with pytest.raises(OrderNotCancellable):
        await store.cancel_order(ALICE, shipped.items[0].id)
    assert await store.cancel_order(BOB, shipped.items[0].id) is None
