"""What the web BFF reads from the services (re-declared, never imported) and what it returns."""

from __future__ import annotations

import msgspec

# The fields of the services' payloads this BFF uses. Copies, on purpose: a
# service can add fields freely, and the contract tests catch a removed one.


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


# The dashboard screen.


class Money(msgspec.Struct, frozen=True):
    currency: str
    amount_minor: int


class RecentOrder(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str
    item_count: int
    total: Money


class Dashboard(msgspec.Struct, frozen=True):
    profile: Profile
    recent_orders: list[RecentOrder]
    # Sum of the recent, not cancelled, orders, one entry per currency.
    recent_total: list[Money]
