"""The /orders endpoints: each answers for the caller's own orders only."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
import re
from typing import Annotated

import msgspec
from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, ValidationException
from litestar.params import HeaderParameter, PathParameter, QueryParameter, RawBody
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from service_defaults.openapi import BEARER, problem_responses, raw_json_body
from service_defaults.tokens import Principal
from services.orders.cursors import CURSOR_PATTERN, InvalidCursor
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
    HeaderParameter(
        name="Idempotency-Key",
        description="1 to 255 printable ASCII characters.",
        # Documented only: the handler checks it, and answers 400 as it always has.
        schema_extra={"pattern": IDEMPOTENCY_KEY.pattern},
    ),
]
# Documented only, not enforced here: an id of any other form names no order, a 404.
OrderId = Annotated[
    str,
    PathParameter(
        description="32 lowercase hex digits.", schema_extra={"pattern": "^[0-9a-f]{32}$"}
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
# Injected by name from the app's dependencies.
Caller = NamedDependency[Principal]  # the verified caller
Store = NamedDependency[OrderStore]


@get("/", responses=problem_responses(400, 401, 422))
async def list_orders(
    principal: Caller,
    store: Store,
    limit: PageSize = 20,
    cursor: Cursor = None,
    status: Status = None,
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


@get("/stats", responses=problem_responses(401))
async def order_stats(principal: Caller, store: Store) -> OrderStats:
    return await store.stats(principal.subject)


@get("/{order_id:str}", responses=problem_responses(400, 401, 404))
async def get_order(principal: Caller, store: Store, order_id: OrderId) -> Order:
    order = await store.get_order(principal.subject, order_id)
    if order is None:
        raise NotFoundException(NOT_FOUND)
    return order


@post(
    "/",
    status_code=201,
    operation_class=raw_json_body(OrderCreate),
    responses=problem_responses(400, 401, 422),
)
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


@post("/{order_id:str}/cancel", status_code=200, responses=problem_responses(400, 401, 404, 409))
async def cancel_order(principal: Caller, store: Store, order_id: OrderId) -> Order:
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


def create_orders_router() -> Router:
    return Router(
        path="/orders",
        route_handlers=[list_orders, order_stats, get_order, create_order, cancel_order],
        tags=["orders"],
        security=BEARER,
    )
