"""`OrderStore`: owner-scoped order queries, idempotent creation, cancellation, demo seeding."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from service_defaults.database import Database, as_utc, insert_unless_present, rfc3339
from services.orders.cursors import CursorKey, decode_cursor, encode_cursor
from services.orders.demo_data import DEMO_ORDERS
from services.orders.schemas import (
    ORDER_STATUSES,
    Order,
    OrderCreate,
    OrderItem,
    OrderPage,
    OrderStats,
    OrderStatus,
)
from services.orders.tables import idempotency_keys, order_items, orders

# Demo orders' ids are derived from this, so seeding twice finds them there.
DEMO_NAMESPACE = uuid.UUID("6f0d5c38-5d52-4bd6-9a52-5c1b1fd0e0a7")


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request body."""


class OrderNotCancellable(Exception):
    """The order has shipped and can no longer be cancelled."""


class Created(NamedTuple):
    order: Order
    replayed: bool  # True when an earlier request with the same idempotency key created it


class OrderStore:
    """Every read and write is scoped by owner: someone else's order looks like no order.

    Each method is one unit of work, a sync function of a `Connection` below, run by
    the `Database` in one thread hop.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    async def get_order(self, owner: str, order_id: str) -> Order | None:
        return await self._database.run(_load_order, owner, order_id)

    async def list_orders(
        self, owner: str, *, limit: int, cursor: str | None, status: OrderStatus | None
    ) -> OrderPage:
        after = decode_cursor(cursor) if cursor is not None else None
        return await self._database.run(_list_orders, owner, limit, after, status)

    async def create_order(
        self, owner: str, body: OrderCreate, idempotency_key: str | None
    ) -> Created:
        # The decoded body re-encoded is canonical: key order, whitespace and unknown fields vanish.
        request_hash = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
        if idempotency_key is not None:
            earlier = await self._database.run(_replay, owner, idempotency_key, request_hash)
            if earlier is not None:
                return Created(earlier, replayed=True)
        order = _new_order(body, status="placed", created_at=datetime.now(UTC))
        try:
            await self._database.run_in_transaction(
                _insert_order, owner, order, idempotency_key, request_hash
            )
        except IntegrityError:
            # A concurrent retry claimed the key first; its transaction committed, ours rolled back.
            if idempotency_key is None:
                raise
            earlier = await self._database.run(_replay, owner, idempotency_key, request_hash)
            if earlier is None:
                raise
            return Created(earlier, replayed=True)
        return Created(order, replayed=False)

    async def cancel_order(self, owner: str, order_id: str) -> Order | None:
        order = await self._database.run_in_transaction(_cancel_order, owner, order_id)
        if order is not None and order.status == "shipped":
            raise OrderNotCancellable(order_id)
        return order

    async def stats(self, owner: str) -> OrderStats:
        return await self._database.run(_stats, owner)

    async def seed_demo_data(self) -> int:
        """Give each demo user a few orders unless they already have some; returns how many."""
        return await self._database.run_in_transaction(_seed_demo_data, datetime.now(UTC))


def _list_orders(
    conn: Connection, owner: str, limit: int, after: CursorKey | None, status: OrderStatus | None
) -> OrderPage:
    params: dict[str, object] = {"owner": owner, "limit": limit + 1}
    if status is not None:
        params["status"] = status
    if after is not None:
        params |= {"after_created_at": after.created_at, "after_id": after.id}
    query = _page_query(by_status=status is not None, after_cursor=after is not None)
    found: list[Order] = []
    created: list[datetime] = []  # the cursor's key, before formatting
    # One row per item, the rows of one order together: grouped back into orders.
    for row in conn.execute(query, params):
        order_id, order_status, currency, total, created_at, sku, name, quantity, price = row
        if not found or found[-1].id != order_id:
            found.append(Order(order_id, order_status, currency, total, [], rfc3339(created_at)))
            created.append(created_at)
        # The outer join gives an order without items one row of NULLs.
        if sku is not None and name is not None and quantity is not None and price is not None:
            found[-1].items.append(_line(sku, name, quantity, price))
    page = found[:limit]
    more = len(found) > limit
    last = CursorKey(created_at=as_utc(created[limit - 1]), id=page[-1].id) if more else None
    return OrderPage(items=page, next_cursor=encode_cursor(last) if last else None)


@cache
def _page_query(
    *, by_status: bool, after_cursor: bool
) -> sa.Select[
    str, OrderStatus, str, int, datetime, str | None, str | None, int | None, int | None
]:
    """A page of an owner's orders, newest first, joined to their items, in one statement.

    Built once per shape, with bound parameters only: building the statements on every
    call cost more CPU than running them, and a reused statement keeps its cache key.
    """
    page = sa.select(
        orders.c.id, orders.c.status, orders.c.currency, orders.c.total_minor, orders.c.created_at
    ).where(orders.c.owner == sa.bindparam("owner"))
    if by_status:
        page = page.where(orders.c.status == sa.bindparam("status"))
    if after_cursor:
        after = sa.tuple_(
            sa.bindparam("after_created_at", type_=orders.c.created_at.type),
            sa.bindparam("after_id", type_=orders.c.id.type),
        )
        page = page.where(sa.tuple_(orders.c.created_at, orders.c.id) < after)
    newest_first = (orders.c.created_at.desc(), orders.c.id.desc())
    paged = page.order_by(*newest_first).limit(sa.bindparam("limit")).subquery("page")
    items = order_items.c
    return (
        sa.select(*paged.c, items.sku, items.name, items.quantity, items.unit_price_minor)
        .outerjoin(order_items, items.order_id == paged.c.id)
        .order_by(paged.c.created_at.desc(), paged.c.id.desc(), items.position)
    )


_STATS = (
    sa.select(orders.c.status, sa.func.count())
    .where(orders.c.owner == sa.bindparam("owner"))
    .group_by(orders.c.status)
)


def _stats(conn: Connection, owner: str) -> OrderStats:
    rows = conn.execute(_STATS, {"owner": owner})
    counts: dict[str, int] = {status: count for status, count in rows}
    by_status: dict[str, int] = {status: counts.get(status, 0) for status in ORDER_STATUSES}
    return OrderStats(order_count=sum(counts.values()), by_status=by_status)


def _cancel_order(conn: Connection, owner: str, order_id: str) -> Order | None:
    # Conditional on the current status, so a concurrent change cannot be overwritten.
    conn.execute(
        orders.update()
        .where(orders.c.id == order_id, orders.c.owner == owner)
        .where(orders.c.status == "placed")
        .values(status="cancelled")
    )
    return _load_order(conn, owner, order_id)


def _seed_demo_data(conn: Connection, now: datetime) -> int:
    seeded = 0
    for owner, demo_orders in DEMO_ORDERS.items():
        if conn.scalar(sa.select(orders.c.id).where(orders.c.owner == owner).limit(1)):
            continue  # a demo user who has orders keeps just those
        for position, demo in enumerate(demo_orders):
            # A fixed id per demo order: a replica seeding at the same time, past
            # the check above too, finds the row there and writes nothing.
            order_id = uuid.uuid5(DEMO_NAMESPACE, f"{owner}/{position}").hex
            created_at = now - timedelta(days=demo.days_ago)
            order = _new_order(demo.body, status=demo.status, created_at=created_at, id=order_id)
            if insert_unless_present(conn, orders, _order_row(owner, order)):
                _insert_items(conn, order)
                seeded += 1
    return seeded


def _new_order(
    body: OrderCreate, *, status: OrderStatus, created_at: datetime, id: str | None = None
) -> Order:
    items = [
        _line(item.sku, item.name, item.quantity, item.unit_price_minor) for item in body.items
    ]
    return Order(
        id=id or uuid.uuid4().hex,
        status=status,
        currency=body.currency,
        total_minor=sum(item.line_total_minor for item in items),
        items=items,
        created_at=rfc3339(created_at),
    )


def _insert_order(
    conn: Connection,
    owner: str,
    order: Order,
    idempotency_key: str | None = None,
    request_hash: str = "",
) -> None:
    conn.execute(orders.insert().values(_order_row(owner, order)))
    _insert_items(conn, order)
    if idempotency_key is not None:
        # Last, in the same transaction: the key's unique constraint decides a race.
        conn.execute(
            idempotency_keys.insert().values(
                owner=owner, key=idempotency_key, request_hash=request_hash, order_id=order.id
            )
        )


def _order_row(owner: str, order: Order) -> dict[str, object]:
    return {
        "id": order.id,
        "owner": owner,
        "status": order.status,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "created_at": datetime.fromisoformat(order.created_at),
    }


def _insert_items(conn: Connection, order: Order) -> None:
    conn.execute(
        order_items.insert(),
        [
            {
                "order_id": order.id,
                "position": position,
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price_minor": item.unit_price_minor,
            }
            for position, item in enumerate(order.items)
        ],
    )


def _replay(conn: Connection, owner: str, key: str, request_hash: str) -> Order | None:
    query = sa.select(idempotency_keys).where(
        idempotency_keys.c.owner == owner, idempotency_keys.c.key == key
    )
    claimed = conn.execute(query).first()
    if claimed is None:
        return None
    if claimed.request_hash != request_hash:
        raise IdempotencyConflict(key)
    return _load_order(conn, owner, claimed.order_id)


_ORDER = sa.select(orders).where(
    orders.c.id == sa.bindparam("order_id"), orders.c.owner == sa.bindparam("owner")
)
_ORDER_ITEMS = (
    sa.select(
        order_items.c.sku,
        order_items.c.name,
        order_items.c.quantity,
        order_items.c.unit_price_minor,
    )
    .where(order_items.c.order_id == sa.bindparam("order_id"))
    .order_by(order_items.c.position)
)


def _load_order(conn: Connection, owner: str, order_id: str) -> Order | None:
    row = conn.execute(_ORDER, {"order_id": order_id, "owner": owner}).first()
    if row is None:
        return None
    items = [_line(*item) for item in conn.execute(_ORDER_ITEMS, {"order_id": order_id})]
    return _to_order(row, items)


def _line(sku: str, name: str, quantity: int, unit_price_minor: int) -> OrderItem:
    total = quantity * unit_price_minor
    return OrderItem(sku, name, quantity, unit_price_minor, line_total_minor=total)


def _to_order(row: sa.Row[Any], items: list[OrderItem]) -> Order:
    return Order(
        id=row.id,
        status=row.status,
        currency=row.currency,
        total_minor=row.total_minor,
        items=items,
        created_at=rfc3339(row.created_at),
    )
