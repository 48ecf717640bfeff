"""What the web BFF reads from the services (re-declared, never imported) and what it returns."""

from __future__ import annotations

from typing import Annotated

import msgspec

# The fields of the services' payloads this BFF uses. Copies, on purpose: a
# service may add fields freely, and the contract tests catch a removed one.


class Profile(msgspec.Struct, frozen=True):
    id: str
    display_name: str
    email: str


class OrderItem(msgspec.Struct, frozen=True):
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


class Order(msgspec.Struct, frozen=True):
    id: str
    status: str
    currency: str
    total_minor: int
    created_at: str
    items: list[OrderItem]


class OrderPage(msgspec.Struct, frozen=True):
    items: list[Order]
    next_cursor: str | None


class OrderStats(msgspec.Struct, frozen=True):
    order_count: int
    by_status: dict[str, int]


# What the browser sends. Only the shape is checked here; the orders service
# owns the rules (limits, currencies) and its 422 reaches the browser as is.


class NewOrderItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


class NewOrder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    currency: str
    items: Annotated[list[NewOrderItem], msgspec.Meta(min_length=1)]


# The browser's screens.


class OrderSummary(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str
    currency: str
    total_minor: int
    item_count: int


class OrderList(msgspec.Struct, frozen=True):
    items: list[OrderSummary]
    next_cursor: str | None


class Money(msgspec.Struct, frozen=True):
    currency: str
    amount_minor: int


class RecentOrder(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str
    item_count: int
    total: Money
    items: list[OrderItem]


class Dashboard(msgspec.Struct, frozen=True):
    profile: Profile
    # None only when the section is named in `degraded`: unavailable, not empty.
    recent_orders: list[RecentOrder] | None
    stats: OrderStats | None
    degraded: list[str]
