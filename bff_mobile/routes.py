"""The mobile BFF's screens."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency

from bff_mobile.clients import OrdersClient, UsersClient
from bff_mobile.schemas import Home, LastOrder
from service_defaults.fanout import concurrently


@get("/api/mobile/home")
async def home(authorization: NamedDependency[str], state: State) -> Home:
    users: UsersClient = state.users
    orders: OrdersClient = state.orders
    profile, stats, latest = await concurrently(
        users.me(authorization), orders.stats(authorization), orders.latest(authorization)
    )
    last = latest.items[0] if latest.items else None
    return Home(
        name=profile.display_name,
        order_count=stats.order_count,
        last_order=LastOrder(last.id, last.status, last.created_at) if last else None,
    )
