"""The orders API's payloads; money is always an integer count of minor units (cents)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec

OrderStatus = Literal["placed", "shipped", "cancelled"]
ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)

Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ItemName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1000)]
UnitPriceMinor = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 code")]


class OrderItemIn(msgspec.Struct, frozen=True):
    sku: Sku
    name: ItemName
    quantity: Quantity
    unit_price_minor: UnitPriceMinor


class OrderCreate(msgspec.Struct, frozen=True):
    currency: Currency
    items: Annotated[list[OrderItemIn], msgspec.Meta(min_length=1, max_length=50)]


class OrderItem(msgspec.Struct, frozen=True):
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int


class Order(msgspec.Struct, frozen=True):
    id: str
    status: OrderStatus
    currency: str
    total_minor: int
    items: list[OrderItem]
    created_at: str  # RFC 3339 in UTC, always with microseconds: 2025-01-31T09:30:00.123456Z


class OrderPage(msgspec.Struct, frozen=True):
    items: list[Order]
    next_cursor: str | None  # None on the last page


class OrderStats(msgspec.Struct, frozen=True):
    order_count: int
    by_status: dict[str, int]  # every status is present, zero when the owner has none
