"""`decode` and `raise_for_answer`: a service's answer as the BFF's Struct, or the right error."""

# No `from __future__ import annotations`: litestar reads the handler's annotations at runtime.
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from litestar import get
from litestar.exceptions import HTTPException
from litestar.testing import AsyncTestClient

from bff_kit.answers import decode
from bff_kit.errors import UpstreamError
from service_defaults.app import create_service_app
from service_defaults.problems import PROBLEM_JSON
from tests.unit.bff_kit.conftest import CALLS, WIDGET, WIDGET_URL, Svc, Widget


async def get_widget(svc: Svc) -> Widget:
    return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")


class NotGzip(httpx.AsyncByteStream):
    """A body read as it arrives, as from a socket (respx reads a `ByteStream` up front)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"not gzip"


# Decoding


async def test_ok_answer_decodes_into_the_struct_ignoring_unknown_fields(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(json={**WIDGET, "extra": 1})

    assert await get_widget(svc) == Widget(id="w1", size=3)


async def test_created_answer_decodes_too(svc: Svc, wire: respx.MockRouter) -> None:
    wire.post("http://svc.test/widgets").respond(201, json={"id": "w2", "size": 5})

    created = decode(await svc.http.post("/widgets", json={"size": 5}), Widget, service="svc")

    assert created == Widget(id="w2", size=5)


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"id": "w1"}', b'{"id": "w1", "size": "big"}', b"[]"],
    ids=["not-json", "missing-field", "wrong-type", "wrong-shape"],
)
async def test_unexpected_body_is_502(body: bytes, svc: Svc, wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).respond(200, content=body)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert raised.value.detail == "The svc service answered with an unexpected body."


async def test_undecodable_content_encoding_is_502_and_counts_against_the_service(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(
        return_value=httpx.Response(200, headers={"content-encoding": "gzip"}, stream=NotGzip())
    )

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert svc.sample(CALLS, outcome="unreachable") == 1.0


# Errors that are the caller's answer too: passed through with the service's detail


async def test_401_passes_through_with_its_challenge(svc: Svc, wire: respx.MockRouter) -> None:
    challenge = 'Bearer error="invalid_token"'
    wire.get(WIDGET_URL).respond(
        401, headers={"www-authenticate": challenge}, json={"detail": "Token expired."}
    )

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == 401
    assert raised.value.detail == "Token expired."
    assert raised.value.headers == {"WWW-Authenticate": challenge}


async def test_404_passes_through_with_the_service_detail_and_is_not_retried(
    svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(404, json={"status": 404, "detail": "No widget."})

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == 404
    assert raised.value.detail == "No widget."
    assert raised.value.headers == {}
    assert route.call_count == 1


@pytest.mark.parametrize("body", [b"Not Found", b"[]", b'"gone"', b"null", b'{"detail": 4}'])
async def test_404_with_a_non_problem_body_is_still_404(
    body: bytes, svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(404, content=body)

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == 404
    assert raised.value.detail == "The request was refused."


@pytest.mark.parametrize("status", [400, 403, 409])
async def test_other_caller_errors_pass_through_with_the_service_detail(
    status: int, svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(status, json={"status": status, "detail": "Not like that."})

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == status
    assert raised.value.detail == "Not like that."


async def test_422_passes_the_service_field_errors_through(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.post("http://svc.test/widgets").respond(
        422,
        json={
            "status": 422,
            "detail": "size: must be at most 10",
            "errors": [{"field": "size", "message": "must be at most 10"}],
        },
    )

    with pytest.raises(HTTPException) as raised:
        decode(await svc.http.post("/widgets", json={"size": 50}), Widget, service="svc")

    assert raised.value.status_code == 422
    assert raised.value.detail == "size: must be at most 10"
    assert raised.value.extra == [{"key": "size", "message": "must be at most 10"}]


async def test_passed_through_errors_reach_the_caller_as_the_services_problem(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(
        422,
        headers={"www-authenticate": "Bearer"},
        json={
            "detail": "size: must be at most 10",
            "errors": [{"field": "size", "message": "must be at most 10"}],
        },
    )

    @get("/widget")
    async def widget() -> Widget:
        return await get_widget(svc)

    app = create_service_app(title="bff", route_handlers=[widget])
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/widget")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["detail"] == "size: must be at most 10"
    assert problem["errors"] == [{"field": "size", "message": "must be at most 10"}]


# Every other failed answer: the BFF's own 502, without the service's detail


@pytest.mark.parametrize("status", [405, 410, 429, 500, 501])
async def test_other_error_status_is_502_without_the_service_detail(
    status: int, svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(status, json={"detail": "internal detail"})

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert "internal detail" not in raised.value.detail
    assert "svc" in raised.value.detail


async def test_503_after_the_retries_is_502_naming_the_service_unavailable(
    svc: Svc, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(503, json={"detail": "internal detail"})

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert raised.value.detail == "The svc service is unavailable."


async def test_a_services_504_is_the_callers_504(svc: Svc, wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).respond(504, json={"detail": "budget spent"})

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 504
    assert raised.value.detail == "The svc service did not answer in time."
