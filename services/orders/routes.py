"""The /orders endpoints: each answers for the caller's own orders only."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
import asyncio
import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter, RawBody
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from litestar.types import BeforeRequestHookHandler

from service_defaults.bearer import provide_principal
from service_defaults.tokens import Principal
from services.orders.cursors import InvalidCursor
from services.orders.schemas import Order, OrderCreate, OrderPage, OrderStats, OrderStatus
from services.orders.store import (
    IdempotencyConflict,
    OrderNotCancellable,
    OrderStore,
)

# Printable ASCII only, so a key can be stored, logged and compared without surprises.
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")
REPLAYED_HEADER = "Idempotent-Replayed"
# One detail for unknown and foreign ids alike: a 404 must not reveal that an id exists.
NOT_FOUND = "There is no order with this id."

PageSize = Annotated[
    int,
    QueryParameter(ge=1, le=100, description="Page size; outside 1..100 is a 422, never clamped."),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", description="1 to 255 printable ASCII characters."),
]
# Dependencies, injected by name from the router below.
Caller = NamedDependency[Principal]
Store = NamedDependency[OrderStore]


def provide_store(state: State) -> OrderStore:
    store: OrderStore = state.order_store
    return store


@get("/")
async def list_orders(
    principal: Caller,
    store: Store,
    limit: PageSize = 20,
    cursor: FromQuery[str | None] = None,
    status: FromQuery[OrderStatus | None] = None,
) -> OrderPage:
    try:
        # An empty cursor is the first page, as if the parameter were absent.
        return await store.list_orders(
            principal.subject, limit=limit, cursor=cursor or None, status=status
        )
    except InvalidCursor:
        raise ClientException(
            "The cursor is malformed: pass back a next_cursor exactly as it was received."
        ) from None


@get("/stats")
async def order_stats(principal: Caller, store: Store) -> OrderStats:
    return await store.stats(principal.subject)


@get("/{order_id:str}")
async def get_order(principal: Caller, store: Store, order_id: FromPath[str]) -> Order:
    order = await store.get_order(principal.subject, order_id)
    if order is None:
        raise NotFoundException(NOT_FOUND)
    return order


@post("/", status_code=201)
async def create_order(
    principal: Caller, store: Store, body: RawBody, idempotency_key: IdempotencyKey = None
) -> Response[Order]:
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ClientException("Idempotency-Key must be 1 to 255 printable ASCII characters.")
    try:
        created = await store.create_order(principal.subject, decode_order(body), idempotency_key)
    except IdempotencyConflict:
        raise ClientException(
            "This Idempotency-Key was already used with a different request body.",
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        ) from None
    headers = {REPLAYED_HEADER: "true"} if created.replayed else {}
    return Response(created.order, status_code=201, headers=headers)


@post("/{order_id:str}/cancel", status_code=200)
async def cancel_order(principal: Caller, store: Store, order_id: FromPath[str]) -> Order:
    try:
        order = await store.cancel_order(principal.subject, order_id)
    except OrderNotCancellable:
        raise ClientException(
            "The order has shipped and can no longer be cancelled.", status_code=HTTP_409_CONFLICT
        ) from None
    if order is None:
        raise NotFoundException(NOT_FOUND)
    return order


def decode_order(body: bytes) -> OrderCreate:
    """Decode strictly: litestar's own body parsing would turn "1250" or 12.0 into a price."""
    try:
        return msgspec.json.decode(body, type=OrderCreate)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        error = {"key": where.rstrip("`").lstrip("."), "message": message}
        # With field errors attached the kit renders this as 422, naming the field.
        raise ValidationException("The order is invalid.", extra=[error]) from None
    except msgspec.DecodeError:
        raise ClientException("The request body is not valid JSON.") from None


def delay_each_request(delay_ms: int) -> BeforeRequestHookHandler:
    async def delay(_: Request[Any, Any, Any]) -> None:
        await asyncio.sleep(delay_ms / 1000)

    return delay


def create_orders_router(*, response_delay_ms: int = 0) -> Router:
    return Router(
        path="/orders",
        route_handlers=[list_orders, order_stats, get_order, create_order, cancel_order],
        dependencies={
            "principal": Provide(provide_principal),
            "store": Provide(provide_store, sync_to_thread=False),
        },
        # Dev mode only (settings refuse it elsewhere): proves a BFF fans out concurrently.
        before_request=delay_each_request(response_delay_ms) if response_delay_ms else None,
        tags=["orders"],
    )
