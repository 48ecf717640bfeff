"""The web BFF's screens and actions, one round trip each for the browser."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from bff_web.clients import OrdersClient, UsersClient
from bff_web.schemas import Dashboard, NewOrder, Order, OrderList
from bff_web.screens import recent, summarise_page
from service_defaults.deadlines import Deadline
from service_defaults.fanout import Section, fan_out

RECENT_ORDERS = 5
DEGRADED_HEADER = "X-Degraded"
REPLAYED_HEADER = "Idempotent-Replayed"

Authorization = NamedDependency[str]
RequestDeadline = NamedDependency[Deadline]
PageSize = Annotated[int, QueryParameter(ge=1, le=50)]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key")]


class WebController(Controller):
    path = "/api/web"

    @get("/dashboard")
    async def dashboard(
        self, authorization: Authorization, deadline: RequestDeadline, state: State
    ) -> Response[Dashboard]:
        users: UsersClient = state.users
        orders: OrdersClient = state.orders
        # The profile is the page; orders and statistics are parts of it that may
        # be missing. All three calls are in flight at once.
        profile = Section("profile", users.me(authorization, deadline))
        page = Section(
            "recent_orders",
            orders.page(authorization, deadline, limit=RECENT_ORDERS),
            required=False,
        )
        stats = Section("stats", orders.stats(authorization, deadline), required=False)
        degraded = await fan_out(profile, page, stats, deadline=deadline)
        recent_page = page.value_or_none
        body = Dashboard(
            profile=profile.value,
            recent_orders=recent(recent_page) if recent_page is not None else None,
            stats=stats.value_or_none,
            degraded=degraded,
        )
        headers = {DEGRADED_HEADER: ", ".join(degraded)} if degraded else {}
        return Response(body, headers=headers)

    @get("/orders")
    async def orders(
        self,
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        limit: PageSize = 10,
        cursor: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> OrderList:
        client: OrdersClient = state.orders
        page = await client.page(authorization, deadline, limit=limit, cursor=cursor, status=status)
        return OrderList(items=summarise_page(page), next_cursor=page.next_cursor)

    @get("/orders/{order_id:str}")
    async def order(
        self,
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        order_id: FromPath[str],
    ) -> Order:
        client: OrdersClient = state.orders
        return await client.get(authorization, deadline, order_id)

    @post("/orders", status_code=201)
    async def create_order(
        self,
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        data: JSONBody[NewOrder],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Order]:
        # Without a key a retried click could order twice; the BFF would rather refuse.
        if not idempotency_key:
            raise ClientException(
                "An Idempotency-Key header is required, so that a retry cannot order twice."
            )
        client: OrdersClient = state.orders
        answer = await client.create(authorization, deadline, data, idempotency_key)
        # Passed on so the page can say "already placed" rather than "placed".
        replayed = answer.headers.get(REPLAYED_HEADER) == "true"
        return Response(
            answer.body, status_code=201, headers={REPLAYED_HEADER: "true"} if replayed else {}
        )

    @post("/orders/{order_id:str}/cancel", status_code=200)
    async def cancel_order(
        self,
        authorization: Authorization,
        deadline: RequestDeadline,
        state: State,
        order_id: FromPath[str],
    ) -> Order:
        client: OrdersClient = state.orders
        return await client.cancel(authorization, deadline, order_id)
