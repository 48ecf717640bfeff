"""The services as the BFFs' unit tests fake them: addresses, a profile, and a Rendezvous."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

SideEffect = Callable[[httpx.Request], Awaitable[httpx.Response]]

USERS = "http://users.test"
ORDERS = "http://orders.test"
AUTH = {"Authorization": "Bearer alice-token"}
PROBLEM_JSON = "application/problem+json"
TEST_SERVER_HOST = "testserver.local"  # AsyncTestClient's base URL

PROFILE: dict[str, Any] = {
    "id": "u-alice",
    "username": "alice",
    "display_name": "Alice Example",
    "email": "alice@example.com",
    "created_at": "2026-01-01T00:00:00+00:00",
}


class Rendezvous:
    """Answers only once every expected call is in flight: a sequential caller times out."""

    def __init__(self, parties: int, timeout_s: float = 2.0) -> None:
        self._parties = parties
        self._timeout_s = timeout_s
        self._arrived = 0
        self._all_in = asyncio.Event()

    def answering(self, payload: dict[str, Any]) -> SideEffect:
        async def side_effect(request: httpx.Request) -> httpx.Response:
            self._arrived += 1
            if self._arrived == self._parties:
                self._all_in.set()
            try:
                await asyncio.wait_for(self._all_in.wait(), self._timeout_s)
            except TimeoutError:
                # 500, not 503: not retried, so the test sees the failure at once.
                return httpx.Response(500, json={"detail": "calls did not overlap"})
            return httpx.Response(200, json=payload)

        return side_effect
