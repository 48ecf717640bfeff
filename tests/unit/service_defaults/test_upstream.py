"""`call_json`: decoding into the caller's Struct, and every failure as the right HTTP error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import respx
from litestar.exceptions import NotAuthorizedException, NotFoundException

from service_defaults.upstream import UpstreamError, call_json

SERVICE = "http://svc.test"
AUTH = {"authorization": "Bearer tok"}


class Widget(msgspec.Struct, frozen=True):
    id: str
    size: int


class NewWidget(msgspec.Struct, frozen=True):
    size: int


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=SERVICE) as client:
        yield client


async def test_ok_answer_decodes_into_the_struct(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    route = wire.get(f"{SERVICE}/widgets/w1").respond(json={"id": "w1", "size": 3, "extra": 1})

    widget = await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH, params={"v": 2})

    assert widget == Widget(id="w1", size=3)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer tok"
    assert sent.url.params["v"] == "2"


async def test_body_is_sent_as_json(client: httpx.AsyncClient, wire: respx.MockRouter) -> None:
    route = wire.post(f"{SERVICE}/widgets").respond(201, json={"id": "w2", "size": 5})

    widget = await call_json(
        client, "POST", "/widgets", Widget, headers=AUTH, body=NewWidget(size=5)
    )

    assert widget == Widget(id="w2", size=5)
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/json"
    assert sent.content == b'{"size":5}'


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (httpx.ConnectError("refused"), 502),
        (httpx.RemoteProtocolError("peer closed"), 502),
        (httpx.ConnectTimeout("slow connect"), 504),
        (httpx.ReadTimeout("slow answer"), 504),
    ],
    ids=["connect-error", "protocol-error", "connect-timeout", "read-timeout"],
)
async def test_transport_failure_is_upstream_error(
    failure: httpx.TransportError, status: int, client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    wire.get(f"{SERVICE}/widgets/w1").mock(side_effect=failure)

    with pytest.raises(UpstreamError) as raised:
        await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH)

    assert raised.value.status_code == status


@pytest.mark.parametrize("status", [400, 403, 409, 500, 503])
async def test_other_error_status_is_502(
    status: int, client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    wire.get(f"{SERVICE}/widgets/w1").respond(status, json={"detail": "internal detail"})

    with pytest.raises(UpstreamError) as raised:
        await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH)

    assert raised.value.status_code == 502
    assert "internal detail" not in raised.value.detail


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"id": "w1"}', b'{"id": "w1", "size": "big"}', b"[]"],
    ids=["not-json", "missing-field", "wrong-type", "wrong-shape"],
)
async def test_unexpected_body_is_502(
    body: bytes, client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    wire.get(f"{SERVICE}/widgets/w1").respond(200, content=body)

    with pytest.raises(UpstreamError) as raised:
        await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH)

    assert raised.value.status_code == 502


async def test_undecodable_content_encoding_is_502(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    # A stream, so that decoding happens in the client as it reads, as on a real socket.
    wire.get(f"{SERVICE}/widgets/w1").mock(
        return_value=httpx.Response(
            200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )
    )

    with pytest.raises(UpstreamError) as raised:
        await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH)

    assert raised.value.status_code == 502


async def test_401_passes_through_with_its_challenge(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    challenge = 'Bearer error="invalid_token"'
    wire.get(f"{SERVICE}/widgets/w1").respond(401, headers={"www-authenticate": challenge})

    with pytest.raises(NotAuthorizedException) as raised:
        await call_json(client, "GET", "/widgets/w1", Widget, headers=AUTH)

    assert raised.value.status_code == 401
    assert raised.value.headers == {"WWW-Authenticate": challenge}


async def test_404_passes_through_with_the_service_detail(
    client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    wire.get(f"{SERVICE}/widgets/w9").respond(404, json={"status": 404, "detail": "No widget."})

    with pytest.raises(NotFoundException) as raised:
        await call_json(client, "GET", "/widgets/w9", Widget, headers=AUTH)

    assert raised.value.status_code == 404
    assert raised.value.detail == "No widget."


@pytest.mark.parametrize("body", [b"Not Found", b"[]", b'"gone"', b"null"])
async def test_404_with_a_non_problem_body_is_still_404(
    body: bytes, client: httpx.AsyncClient, wire: respx.MockRouter
) -> None:
    wire.get(f"{SERVICE}/widgets/w9").respond(404, content=body)

    with pytest.raises(NotFoundException) as raised:
        await call_json(client, "GET", "/widgets/w9", Widget, headers=AUTH)

    assert raised.value.detail == "Not found."
