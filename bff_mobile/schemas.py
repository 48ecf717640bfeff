"""What the mobile BFF reads from the services (re-declared, never imported) and what it returns."""

from __future__ import annotations

import msgspec

# The orders service's formats, copied.
ORDER_ID_PATTERN = "^[0-9a-f]{32}$"
CURSOR_PATTERN = "^([0-9]{1,16}-[0-9a-f]{32})?$"

# The few fields of the services' payloads this BFF uses.


class Profile(msgspec.Struct, frozen=True):
    display_name: str


class OrderStats(msgspec.Struct, frozen=True):
    order_count: int


class OrderItem(msgspec.Struct, frozen=True):
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


# The phone's screens: only what each screen shows, so they stay small on a slow
# network. Full key names are kept; the budget is met by leaving data out.


class LastOrder(msgspec.Struct, frozen=True):
    id: str
    status: str
    created_at: str


class Home(msgspec.Struct, frozen=True):
    name: str
    order_count: int | None
    last_order: LastOrder | None
    degraded: list[str]


class OrderRow(msgspec.Struct, frozen=True):
    id: str
    status: str
    total_minor: int
    currency: str
    created_at: str


class OrderRows(msgspec.Struct, frozen=True):
    items: list[OrderRow]
    next_cursor: str | None


class OrderLine(msgspec.Struct, frozen=True):
    name: str
    quantity: int
    total_minor: int


class OrderDetail(msgspec.Struct, frozen=True):
    id: str
    status: str
    currency: str
    total_minor: int
    created_at: str
    lines: list[OrderLine]
