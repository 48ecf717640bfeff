"""The mobile BFF's screens: small, cacheable with ETags, one round trip each."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from bff_mobile.caching import cached_json
from bff_mobile.clients import OrdersClient, UsersClient
from bff_mobile.schemas import Home, LastOrder
from bff_mobile.screens import detail, rows
from service_defaults.deadlines import Deadline
from service_defaults.fanout import Section, fan_out

Authorization = NamedDependency[str]
RequestDeadline = NamedDependency[Deadline]
# A phone shows a dozen rows at a time; small pages keep each answer small.
PageSize = Annotated[int, QueryParameter(ge=1, le=20)]


class MobileController(Controller):
    path = "/api/mobile"

    @get("/home")
    async def home(
        self,
        request: Request[Any, Any, Any],
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
    ) -> Response[bytes]:
        users: UsersClient = state.users
        orders: OrdersClient = state.orders
        profile = Section("profile", users.me(authorization, deadline))
        stats = Section("order_count", orders.stats(authorization, deadline), required=False)
        latest = Section(
            "last_order", orders.page(authorization, deadline, limit=1), required=False
        )
        degraded = await fan_out(profile, stats, latest, deadline=deadline)
        counted, page = stats.value_or_none, latest.value_or_none
        last = page.items[0] if page and page.items else None
        home = Home(
            name=profile.value.display_name,
            order_count=counted.order_count if counted else None,
            last_order=LastOrder(last.id, last.status, last.created_at) if last else None,
            degraded=degraded,
        )
        response = cached_json(request, home)
        if degraded:
            response.headers["X-Degraded"] = ", ".join(degraded)
        return response

    @get("/orders")
    async def orders(
        self,
        request: Request[Any, Any, Any],
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        limit: PageSize = 10,
        cursor: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        client: OrdersClient = state.orders
        page = await client.page(authorization, deadline, limit=limit, cursor=cursor)
        return cached_json(request, rows(page))

    @get("/orders/{order_id:str}")
    async def order(
        self,
        request: Request[Any, Any, Any],
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        order_id: FromPath[str],
    ) -> Response[bytes]:
        client: OrdersClient = state.orders
        return cached_json(request, detail(await client.get(authorization, deadline, order_id)))
