"""Sample callers, order bodies and fixture types shared by the orders tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.orders.settings import Settings

JWKS_URL = "http://jwks.test/jwks.json"
# The demo users' ids, as the users service issues them.
ALICE = "00000000-0000-4000-8000-00000000a11c"
BOB = "00000000-0000-4000-8000-000000000b0b"

Client = AsyncTestClient[Litestar]
MakeSettings = Callable[..., Settings]
Auth = Callable[[str], dict[str, str]]


def order_body(*prices: int, currency: str = "EUR") -> dict[str, Any]:
    """An order body with one line per price, quantity 2 each."""
    items = [
        {"sku": f"SKU-{n}", "name": f"Item {n}", "quantity": 2, "unit_price_minor": price}
        for n, price in enumerate(prices or (1250,))
    ]
    return {"currency": currency, "items": items}
