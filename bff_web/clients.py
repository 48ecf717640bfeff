"""Typed clients for the users and orders services, as the web BFF uses them."""

from __future__ import annotations

import httpx

from bff_web.schemas import OrderPage, Profile
from service_defaults.upstream import call_json


class UsersClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def me(self, authorization: str) -> Profile:
        return await call_json(
            self._client, "GET", "/users/me", Profile, headers={"authorization": authorization}
        )


class OrdersClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def recent(self, authorization: str, limit: int) -> OrderPage:
        return await call_json(
            self._client,
            "GET",
            "/orders",
            OrderPage,
            headers={"authorization": authorization},
            params={"limit": limit},
        )
