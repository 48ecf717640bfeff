"""What the web BFF reads from the services (re-declared, never imported) and what it returns."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

# The orders service's formats, copied: ids, page cursors, statuses.
ORDER_ID_PATTERN = "^[0-9a-f]{32}$"
CURSOR_PATTERN = "^([0-9]{1,16}-[0-9a-f]{32})?$"
OrderStatus = Literal["placed", "shipped", "cancelled"]

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


# What the browser sends, with the orders service's own limits copied so that this
# BFF's document states them. The service still owns the rules: if they drift, its
# 422 reaches the browser as is.


class NewOrderItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    unit_price_minor: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class NewOrder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
    items: Annotated[list[NewOrderItem], msgspec.Meta(min_length=1, max_length=50)]


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
