"""The web BFF's screens."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency

from bff_web.clients import OrdersClient, UsersClient
from bff_web.schemas import Dashboard
from bff_web.screens import build_dashboard
from service_defaults.fanout import concurrently

RECENT_ORDERS = 5


@get("/api/web/dashboard")
async def dashboard(authorization: NamedDependency[str], state: State) -> Dashboard:
    users: UsersClient = state.users
    orders: OrdersClient = state.orders
    # Both calls in flight at once: the screen costs the slower call, not the sum.
    profile, recent = await concurrently(
        users.me(authorization), orders.recent(authorization, RECENT_ORDERS)
    )
    return build_dashboard(profile, recent)
