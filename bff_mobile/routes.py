"""The mobile BFF's screens: small, cacheable with ETags, one round trip each."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from bff_kit.bearer import require_bearer
from bff_kit.errors import UPSTREAM_FAILURES
from bff_kit.fanout import Screen
from bff_mobile.caching import cached_json
from bff_mobile.clients import OrdersClient, UsersClient
from bff_mobile.schemas import (
    CURSOR_PATTERN,
    ORDER_ID_PATTERN,
    Home,
    LastOrder,
    OrderDetail,
    OrderRows,
)
from bff_mobile.screens import detail, rows
from service_defaults.openapi import BEARER, encoded_response, problem_responses

# The typed clients, opened by the app's lifespan and injected by name.
Users = NamedDependency[UsersClient]
Orders = NamedDependency[OrdersClient]

# A phone shows a dozen rows at a time; small pages keep each answer small.
PageSize = Annotated[int, QueryParameter(ge=1, le=20)]
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
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: the If-None-Match tag is current.")


def screen_responses(body: type, *problems: int) -> dict[int, ResponseSpec]:
    """The handlers return the bytes `cached_json` encoded: litestar sees only `bytes`."""
    return {
        200: encoded_response(body),
        304: NOT_MODIFIED,
        **problem_responses(*problems, *UPSTREAM_FAILURES),
    }


class MobileController(Controller):
    path = "/api/mobile"
    guards = [require_bearer]  # noqa: RUF012 - litestar's own class attribute
    security = BEARER

    @get("/home", responses=screen_responses(Home, 401))
    async def home(
        self, request: Request[Any, Any, Any], users: Users, orders: Orders
    ) -> Response[bytes]:
        async with Screen() as screen:
            profile = screen.required(users.me())
            stats = screen.optional("order_count", orders.stats())
            latest = screen.optional("last_order", orders.page(limit=1))
        counted, page = stats.result(), latest.result()
        last = page.items[0] if page and page.items else None
        home = Home(
            name=profile.result().display_name,
            order_count=counted.order_count if counted else None,
            last_order=LastOrder(last.id, last.status, last.created_at) if last else None,
            degraded=screen.degraded,
        )
        response = cached_json(request, home)
        response.headers.update(screen.degraded_headers())
        return response

    @get("/orders", responses=screen_responses(OrderRows, 400, 401, 422))
    async def orders(
        self,
        request: Request[Any, Any, Any],
        orders: Orders,
        limit: PageSize = 10,
        cursor: Cursor = None,
    ) -> Response[bytes]:
        return cached_json(request, rows(await orders.page(limit=limit, cursor=cursor)))

    @get("/orders/{order_id:str}", responses=screen_responses(OrderDetail, 400, 401, 404))
    async def order(
        self, request: Request[Any, Any, Any], orders: Orders, order_id: OrderId
    ) -> Response[bytes]:
        return cached_json(request, detail(await orders.get(order_id)))
