"""Every error a client sees is problem+json with the request id, and never a stack trace."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service_defaults.problems import PROBLEM_JSON

Client = AsyncTestClient[Litestar]


async def test_unknown_route_is_404_problem_with_the_request_id(sample: Client) -> None:
    response = await sample.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["instance"] == "/nowhere"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_is_405_problem(sample: Client) -> None:
    response = await sample.delete("/things")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_unhandled_exception_is_500_problem_without_internals(sample: Client) -> None:
    response = await sample.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["detail"] == "The server could not handle this request."
    assert body["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


async def test_missing_field_is_422_naming_the_field(sample: Client) -> None:
    response = await sample.post("/things", json={"name": "widget"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    errors = response.json()["errors"]
    assert errors[0]["field"] == "count"


async def test_wrong_field_type_is_422_naming_the_field(sample: Client) -> None:
    response = await sample.post("/things", json={"name": "widget", "count": "many"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "count"


async def test_malformed_json_is_400_problem(sample: Client) -> None:
    response = await sample.post(
        "/things", content=b'{"name": "widget", ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "errors" not in response.json()


async def test_valid_body_is_accepted(sample: Client) -> None:
    response = await sample.post("/things", json={"name": "widget", "count": 3})

    assert response.status_code == 201
    assert response.json() == {"name": "widget", "count": 3}


async def test_body_over_one_mebibyte_is_413_problem(sample: Client) -> None:
    oversized = b'{"name": "' + b"x" * (1024 * 1024) + b'", "count": 1}'

    response = await sample.post(
        "/things", content=oversized, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
