"""Demo orders for the two demo users, seeded in dev mode only."""

from __future__ import annotations

from typing import NamedTuple

from services.orders.schemas import OrderCreate, OrderItemIn, OrderStatus

# The users service issues tokens with these subjects. Deployables never import
# each other, so the ids are copied here, not imported: change both together.
ALICE_ID = "00000000-0000-4000-8000-00000000a11c"
BOB_ID = "00000000-0000-4000-8000-000000000b0b"


class DemoOrder(NamedTuple):
    days_ago: int
    status: OrderStatus
    body: OrderCreate


def _eur(*items: tuple[str, str, int, int]) -> OrderCreate:
    return OrderCreate(currency="EUR", items=[OrderItemIn(*item) for item in items])


DEMO_ORDERS: dict[str, list[DemoOrder]] = {
    ALICE_ID: [
        DemoOrder(41, "shipped", _eur(("BK-1042", "The Pragmatic Programmer", 1, 4299))),
        DemoOrder(
            23,
            "shipped",
            _eur(("KB-0007", "Mechanical keyboard", 1, 12900), ("CB-0100", "USB-C cable", 2, 999)),
        ),
        DemoOrder(9, "cancelled", _eur(("MG-2001", "Espresso cup set", 1, 2450))),
        DemoOrder(
            2,
            "placed",
            _eur(
                ("CF-0250", "Single-origin coffee 250 g", 3, 1190), ("FL-0001", "Filters", 1, 399)
            ),
        ),
    ],
    BOB_ID: [
        DemoOrder(30, "shipped", _eur(("HP-0300", "Noise-cancelling headphones", 1, 24999))),
        DemoOrder(12, "placed", _eur(("NB-0050", "Dotted notebook A5", 4, 1450))),
        DemoOrder(5, "cancelled", _eur(("LM-0700", "Desk lamp", 1, 5990))),
    ],
}
