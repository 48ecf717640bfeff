"""The caller's bearer token: required before any call, forwarded on every call to a service."""

# No `from __future__ import annotations`: litestar reads the handlers' annotations at runtime.
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import respx
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from bff_kit.answers import decode
from bff_kit.bearer import CallerBearerMiddleware, require_bearer
from service_defaults.app import create_service_app
from service_defaults.problems import PROBLEM_JSON
from tests.unit.bff_kit.conftest import HANG_GUARD_S, WIDGET, WIDGET_URL, Svc, Widget

Client = AsyncTestClient[Litestar]


def create_bearer_app(svc: Svc, *, meet: asyncio.Barrier | None = None) -> Litestar:
    """A BFF of one guarded route that calls "svc", wired as `create_bff_app` wires it.

    With `meet`, each request waits there before its call, until all have arrived.
    """

    @get("/widget", guards=[require_bearer])
    async def widget() -> Widget:
        if meet is not None:
            await meet.wait()
        return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")

    return create_service_app(
        title="bearer", route_handlers=[widget], middleware=[CallerBearerMiddleware]
    )


@pytest.fixture
async def client(svc: Svc) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_bearer_app(svc)) as client:
        yield client


async def test_callers_authorization_is_forwarded_to_the_service(
    client: Client, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    response = await client.get("/widget", headers={"Authorization": "Bearer alice-token"})

    assert response.status_code == 200
    assert route.calls.last.request.headers["authorization"] == "Bearer alice-token"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YWxpY2U6cHc="}, {"Authorization": "Bearer "}],
    ids=["none", "basic", "empty-bearer"],
)
async def test_request_without_a_bearer_token_is_401_before_any_call(
    headers: dict[str, str], client: Client, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    response = await client.get("/widget", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM_JSON
    assert not route.called


async def test_no_authorization_is_sent_outside_a_request(svc: Svc, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    await svc.http.get("/widgets/w1")

    assert "authorization" not in route.calls.last.request.headers


async def test_concurrent_requests_each_forward_their_own_bearer(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(json=WIDGET)
    # Both requests are inside the app before either calls the service.
    # Typed as httpx takes it: litestar's own ASGI types are narrower than httpx's.
    app: Callable[..., Awaitable[None]] = create_bearer_app(svc, meet=asyncio.Barrier(2))
    # In this loop rather than AsyncTestClient's portal, which handles one request at a time.
    transport = httpx.ASGITransport(app=app)
    async with (
        asyncio.timeout(HANG_GUARD_S),
        httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client,
    ):
        alice, bob = await asyncio.gather(
            client.get("/widget", headers={"Authorization": "Bearer alice"}),
            client.get("/widget", headers={"Authorization": "Bearer bob"}),
        )

    assert (alice.status_code, bob.status_code) == (200, 200)
    sent = sorted(call.request.headers["authorization"] for call in wire.calls)
    assert sent == ["Bearer alice", "Bearer bob"]
