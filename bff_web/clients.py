"""Typed clients for the users and orders services, as the web BFF uses them.

Each is a small class around an injected `httpx.AsyncClient`: the transport chain
under it carries the deadline, the caller's token, retries and the breaker.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import httpx
import msgspec
from litestar.exceptions import NotFoundException

from bff_kit.answers import decode
from bff_web.schemas import ORDER_ID_PATTERN, NewOrder, Order, OrderPage, OrderStats, Profile

# The orders service's ids: 32 lowercase hex digits (its contract, copied). Anything
# else names no order, and could name another endpoint: "stats", or "?status=x"
# once the client's path has been decoded.
ORDER_ID = re.compile(ORDER_ID_PATTERN)
REPLAYED_HEADER = "Idempotent-Replayed"


def order_path(order_id: str, action: str = "") -> str:
    if not ORDER_ID.fullmatch(order_id):
        raise NotFoundException("There is no order with this id.")
    return f"/orders/{order_id}{action}"


class Placed(NamedTuple):
    order: Order
    replayed: bool  # an earlier request with the same idempotency key placed it


class UsersClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def me(self) -> Profile:
        return decode(await self._http.get("/users/me"), Profile, service="users")


class OrdersClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def page(
        self, *, limit: int, cursor: str | None = None, status: str | None = None
    ) -> OrderPage:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if status:
            params["status"] = status
        response = await self._http.get("/orders", params=params)
        return decode(response, OrderPage, service="orders")

    async def stats(self) -> OrderStats:
        return decode(await self._http.get("/orders/stats"), OrderStats, service="orders")

    async def get(self, order_id: str) -> Order:
        return decode(await self._http.get(order_path(order_id)), Order, service="orders")

    async def create(self, order: NewOrder, idempotency_key: str) -> Placed:
        response = await self._http.post(
            "/orders",
            content=msgspec.json.encode(order),
            headers={"content-type": "application/json", "idempotency-key": idempotency_key},
        )
        created = decode(response, Order, service="orders")
        return Placed(created, replayed=response.headers.get(REPLAYED_HEADER) == "true")

    async def cancel(self, order_id: str) -> Order:
        response = await self._http.post(order_path(order_id, "/cancel"))
        return decode(response, Order, service="orders")


class Clients(NamedTuple):
    """What the web BFF's lifespan opens."""

    users: UsersClient
    orders: OrdersClient
