"""What the mobile BFF reads from the services (re-declared, never imported) and what it returns."""

from __future__ import annotations

import msgspec

# The few fields of the services' payloads this BFF uses.


class Profile(msgspec.Struct, frozen=True):
    display_name: str


class OrderStats(msgspec.Struct, frozen=True):
    order_count: int


class Order(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str


class OrderPage(msgspec.Struct, frozen=True):
    items: list[Order]


# The home screen: short keys are not worth the obscurity, so the budget is kept
# by sending only what the screen shows.


class LastOrder(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str


class Home(msgspec.Struct, frozen=True):
    name: str
    order_count: int
    last_order: LastOrder | None
