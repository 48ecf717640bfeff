"""The web BFF's screens and actions, one round trip each for the browser."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from bff_kit.bearer import require_bearer
from bff_kit.errors import UPSTREAM_FAILURES
from bff_kit.fanout import Screen
from bff_web.clients import REPLAYED_HEADER, OrdersClient, UsersClient
from bff_web.schemas import (
    CURSOR_PATTERN,
    ORDER_ID_PATTERN,
    Dashboard,
    NewOrder,
    Order,
    OrderList,
    OrderStatus,
)
from bff_web.screens import recent, summarise_page
from service_defaults.openapi import BEARER, problem_responses

# The typed clients, opened by the app's lifespan and injected by name.
Users = NamedDependency[UsersClient]
Orders = NamedDependency[OrdersClient]

RECENT_ORDERS = 5
# Personal data, assembled per request: no cache, private or shared, may keep it.
# (The mobile BFF revalidates with ETags instead; a browser page reloads whole.)
NO_STORE = {"Cache-Control": "no-store"}

PageSize = Annotated[int, QueryParameter(ge=1, le=50)]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Required: a retry with the same key cannot order twice.",
        # Documented as required; the handler itself answers its absence with a 400.
        schema_extra={"pattern": r"^[\x20-\x7e]{1,255}$"},
        required=True,
    ),
]
OrderId = Annotated[
    str,
    PathParameter(
        description="32 lowercase hex digits.", schema_extra={"pattern": ORDER_ID_PATTERN}
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        description="A next_cursor exactly as received; empty or absent for the first page.",
        schema_extra={"pattern": CURSOR_PATTERN},
    ),
]
Status = Annotated[OrderStatus | None, QueryParameter()]


class WebController(Controller):
    path = "/api/web"
    guards = [require_bearer]  # noqa: RUF012 - litestar's own class attribute
    security = BEARER

    @get("/dashboard", responses=problem_responses(401, *UPSTREAM_FAILURES))
    async def dashboard(self, users: Users, orders: Orders) -> Response[Dashboard]:
        # The profile is the page; orders and statistics are parts of it that may
        # be missing. All three calls are in flight at once.
        async with Screen() as screen:
            # The slowest calls first: each costs a little CPU before the next goes out.
            page = screen.optional("recent_orders", orders.page(limit=RECENT_ORDERS))
            stats = screen.optional("stats", orders.stats())
            profile = screen.required(users.me())
        recent_page = page.result()
        body = Dashboard(
            profile=profile.result(),
            recent_orders=recent(recent_page) if recent_page is not None else None,
            stats=stats.result(),
            degraded=screen.degraded,
        )
        return Response(body, headers={**NO_STORE, **screen.degraded_headers()})

    @get("/orders", responses=problem_responses(400, 401, 422, *UPSTREAM_FAILURES))
    async def orders(
        self,
        orders: Orders,
        limit: PageSize = 10,
        cursor: Cursor = None,
        status: Status = None,
    ) -> Response[OrderList]:
        page = await orders.page(limit=limit, cursor=cursor, status=status)
        return Response(
            OrderList(items=summarise_page(page), next_cursor=page.next_cursor), headers=NO_STORE
        )

    @get("/orders/{order_id:str}", responses=problem_responses(400, 401, 404, *UPSTREAM_FAILURES))
    async def order(self, orders: Orders, order_id: OrderId) -> Response[Order]:
        return Response(await orders.get(order_id), headers=NO_STORE)

    @post(
        "/orders", status_code=201, responses=problem_responses(400, 401, 422, *UPSTREAM_FAILURES)
    )
    async def create_order(
        self, orders: Orders, data: JSONBody[NewOrder], idempotency_key: IdempotencyKey = None
    ) -> Response[Order]:
        # Without a key a retried click could order twice; the BFF would rather refuse.
        if not idempotency_key:
            raise ClientException(
                "An Idempotency-Key header is required, so that a retry cannot order twice."
            )
        placed = await orders.create(data, idempotency_key)
        # Passed on so the page can say "already placed" rather than "placed".
        headers = {**NO_STORE, **({REPLAYED_HEADER: "true"} if placed.replayed else {})}
        return Response(placed.order, status_code=201, headers=headers)

    @post(
        "/orders/{order_id:str}/cancel",
        status_code=200,
        responses=problem_responses(400, 401, 404, 409, *UPSTREAM_FAILURES),
    )
    async def cancel_order(self, orders: Orders, order_id: OrderId) -> Response[Order]:
        return Response(await orders.cancel(order_id), headers=NO_STORE)
