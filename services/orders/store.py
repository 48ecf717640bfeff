"""`OrderStore`: owner-scoped order queries, idempotent creation, cancellation, demo seeding."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
from services.orders.tables import idempotency_keys, metadata, order_items, orders


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request body."""


class OrderNotCancellable(Exception):
    """The order has shipped and can no longer be cancelled."""


class Created(NamedTuple):
    order: Order
    replayed: bool  # True when an earlier request with the same idempotency key created it


class OrderStore:
    """Every read and write is scoped by owner: someone else's order looks like no order."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_tables(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def ping(self) -> bool:
        try:
            async with self._engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    async def get_order(self, owner: str, order_id: str) -> Order | None:
        async with self._engine.connect() as conn:
            return await _load_order(conn, owner, order_id)

    async def list_orders(
        self, owner: str, *, limit: int, cursor: str | None, status: OrderStatus | None
    ) -> OrderPage:
        query = sa.select(orders).where(orders.c.owner == owner)
        if status is not None:
            query = query.where(orders.c.status == status)
        if cursor is not None:
            after = decode_cursor(cursor)
            query = query.where(
                sa.tuple_(orders.c.created_at, orders.c.id) < (after.created_at, after.id)
            )
        query = query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit + 1)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            page = rows[:limit]
            items = await _load_items(conn, [row.id for row in page])
        found = [_to_order(row, items.get(row.id, [])) for row in page]
        more = len(rows) > limit
        last = CursorKey(created_at=_as_utc(page[-1].created_at), id=page[-1].id) if more else None
        return OrderPage(items=found, next_cursor=encode_cursor(last) if last else None)

    async def create_order(
        self, owner: str, body: OrderCreate, idempotency_key: str | None
    ) -> Created:
        # The decoded body re-encoded is canonical: key order, whitespace and unknown fields vanish.
        request_hash = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
        if idempotency_key is not None:
            async with self._engine.connect() as conn:
                earlier = await _replay(conn, owner, idempotency_key, request_hash)
            if earlier is not None:
                return Created(earlier, replayed=True)
        order = _new_order(body, status="placed", created_at=datetime.now(UTC))
        try:
            async with self._engine.begin() as conn:
                await _insert_order(conn, owner, order)
                if idempotency_key is not None:
                    await conn.execute(
                        idempotency_keys.insert().values(
                            owner=owner,
                            key=idempotency_key,
                            request_hash=request_hash,
                            order_id=order.id,
                        )
                    )
        except IntegrityError:
            # A concurrent retry claimed the key first; its transaction committed, ours rolled back.
            if idempotency_key is None:
                raise
            async with self._engine.connect() as conn:
                earlier = await _replay(conn, owner, idempotency_key, request_hash)
            if earlier is None:
                raise
            return Created(earlier, replayed=True)
        return Created(order, replayed=False)

    async def cancel_order(self, owner: str, order_id: str) -> Order | None:
        async with self._engine.begin() as conn:
            # Conditional on the current status, so a concurrent change cannot be overwritten.
            await conn.execute(
                orders.update()
                .where(orders.c.id == order_id, orders.c.owner == owner)
                .where(orders.c.status == "placed")
                .values(status="cancelled")
            )
            order = await _load_order(conn, owner, order_id)
        if order is not None and order.status == "shipped":
            raise OrderNotCancellable(order_id)
        return order

    async def stats(self, owner: str) -> OrderStats:
        query = (
            sa.select(orders.c.status, sa.func.count())
            .where(orders.c.owner == owner)
            .group_by(orders.c.status)
        )
        async with self._engine.connect() as conn:
            counts = {status: count for status, count in await conn.execute(query)}
        by_status: dict[str, int] = {status: counts.get(status, 0) for status in ORDER_STATUSES}
        return OrderStats(order_count=sum(counts.values()), by_status=by_status)

    async def seed_demo_data(self) -> int:
        """Give each demo user a few orders unless they already have some; returns how many."""
        now = datetime.now(UTC)
        seeded = 0
        async with self._engine.begin() as conn:
            for owner, demo_orders in DEMO_ORDERS.items():
                if await conn.scalar(
                    sa.select(orders.c.id).where(orders.c.owner == owner).limit(1)
                ):
                    continue
                for demo in demo_orders:
                    created_at = now - timedelta(days=demo.days_ago)
                    order = _new_order(demo.body, status=demo.status, created_at=created_at)
                    await _insert_order(conn, owner, order)
                    seeded += 1
        return seeded


def _new_order(body: OrderCreate, *, status: OrderStatus, created_at: datetime) -> Order:
    items = [
        _line(item.sku, item.name, item.quantity, item.unit_price_minor) for item in body.items
    ]
    return Order(
        id=uuid.uuid4().hex,
        status=status,
        currency=body.currency,
        total_minor=sum(item.line_total_minor for item in items),
        items=items,
        created_at=_rfc3339(created_at),
    )


async def _insert_order(conn: AsyncConnection, owner: str, order: Order) -> None:
    await conn.execute(
        orders.insert().values(
            id=order.id,
            owner=owner,
            status=order.status,
            currency=order.currency,
            total_minor=order.total_minor,
            created_at=datetime.fromisoformat(order.created_at),
        )
    )
    await conn.execute(
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


async def _replay(conn: AsyncConnection, owner: str, key: str, request_hash: str) -> Order | None:
    query = sa.select(idempotency_keys).where(
        idempotency_keys.c.owner == owner, idempotency_keys.c.key == key
    )
    claimed = (await conn.execute(query)).first()
    if claimed is None:
        return None
    if claimed.request_hash != request_hash:
        raise IdempotencyConflict(key)
    return await _load_order(conn, owner, claimed.order_id)


async def _load_order(conn: AsyncConnection, owner: str, order_id: str) -> Order | None:
    query = sa.select(orders).where(orders.c.id == order_id, orders.c.owner == owner)
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    items = await _load_items(conn, [order_id])
    return _to_order(row, items.get(order_id, []))


async def _load_items(
    conn: AsyncConnection, order_ids: Sequence[str]
) -> dict[str, list[OrderItem]]:
    if not order_ids:
        return {}
    query = (
        sa.select(order_items)
        .where(order_items.c.order_id.in_(order_ids))
        .order_by(order_items.c.order_id, order_items.c.position)
    )
    items: dict[str, list[OrderItem]] = {}
    for row in await conn.execute(query):
        line = _line(row.sku, row.name, row.quantity, row.unit_price_minor)
        items.setdefault(row.order_id, []).append(line)
    return items


def _line(sku: str, name: str, quantity: int, unit_price_minor: int) -> OrderItem:
    total = quantity * unit_price_minor
    return OrderItem(sku, name, quantity, unit_price_minor, line_total_minor=total)


def _to_order(row: sa.Row[tuple[object, ...]], items: list[OrderItem]) -> Order:
    return Order(
        id=row.id,
        status=row.status,
        currency=row.currency,
        total_minor=row.total_minor,
        items=items,
        created_at=_rfc3339(row.created_at),
    )


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored value was written in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
