"""Typed clients for the users and orders services, as the web BFF uses them."""

from __future__ import annotations

import re

from litestar.exceptions import NotFoundException

from bff_web.schemas import NewOrder, Order, OrderPage, OrderStats, Profile
from service_defaults.deadlines import Deadline
from service_defaults.upstream import Answer, Upstream

# The orders service's ids: 32 lowercase hex digits (its contract, copied). Anything
# else names no order, and could name another endpoint: "stats", or "?status=x"
# once the client's path has been decoded.
ORDER_ID = re.compile(r"[0-9a-f]{32}")


def order_path(order_id: str, action: str = "") -> str:
    if not ORDER_ID.fullmatch(order_id):
        raise NotFoundException("There is no order with this id.")
    return f"/orders/{order_id}{action}"


class UsersClient:
    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def me(self, authorization: str, deadline: Deadline) -> Profile:
        return await self._upstream.call_json(
            "GET", "/users/me", Profile, deadline=deadline, headers={"authorization": authorization}
        )


class OrdersClient:
    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def page(
        self,
        authorization: str,
        deadline: Deadline,
        *,
        limit: int,
        cursor: str | None = None,
        status: str | None = None,
    ) -> OrderPage:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if status:
            params["status"] = status
        return await self._upstream.call_json(
            "GET",
            "/orders",
            OrderPage,
            deadline=deadline,
            headers={"authorization": authorization},
            params=params,
        )

    async def stats(self, authorization: str, deadline: Deadline) -> OrderStats:
        return await self._upstream.call_json(
            "GET",
            "/orders/stats",
            OrderStats,
            deadline=deadline,
            headers={"authorization": authorization},
        )

    async def get(self, authorization: str, deadline: Deadline, order_id: str) -> Order:
        return await self._upstream.call_json(
            "GET",
            order_path(order_id),
            Order,
            deadline=deadline,
            headers={"authorization": authorization},
        )

    async def create(
        self, authorization: str, deadline: Deadline, order: NewOrder, idempotency_key: str
    ) -> Answer[Order]:
        # With the headers: the browser wants to know whether this was a replay.
        return await self._upstream.call(
            "POST",
            "/orders",
            Order,
            deadline=deadline,
            body=order,
            headers={"authorization": authorization, "idempotency-key": idempotency_key},
        )

    async def cancel(self, authorization: str, deadline: Deadline, order_id: str) -> Order:
        return await self._upstream.call_json(
            "POST",
            order_path(order_id, "/cancel"),
            Order,
            deadline=deadline,
            headers={"authorization": authorization},
        )
