"""Request and response sizes: body limits before any upstream call, 431, large streamed answers."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

OPEN_LIMIT = 1024  # max_body_bytes of the "open" route


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-bodies")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def chunks(*sizes: int) -> Iterator[bytes]:
    """A body httpx cannot size in advance, so it goes out with Transfer-Encoding: chunked."""
    for size in sizes:
        yield b"b" * size


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def test_declared_body_over_the_route_limit_is_413_without_upstream_call(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    assert_problem(client.post("/open/x", content=b"a" * (2 * OPEN_LIMIT)), 413)

    assert edge.upstream_calls() == before


def test_body_at_the_route_limit_arrives_whole(client: httpx.Client) -> None:
    response = client.post("/open/x", content=b"a" * OPEN_LIMIT)

    assert response.status_code == 200
    assert response.json()["body_bytes"] == OPEN_LIMIT


def test_chunked_body_over_the_route_limit_is_413_without_upstream_call(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    response = client.post("/open/x", content=chunks(700, 700))

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)
    assert edge.upstream_calls() == before


def test_chunked_body_under_the_route_limit_arrives_whole_with_its_length(
    client: httpx.Client,
) -> None:
    response = client.post("/open/x", content=chunks(300, 1, 299))

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    seen = response.json()
    assert seen["body_bytes"] == 600
    assert ["content-length", "600"] in seen["headers"]


def test_body_too_large_to_hold_streams_through_whole(client: httpx.Client) -> None:
    # Past 64 KiB a body with a Content-Length is streamed, not read into memory.
    response = client.post("/bulk/x", content=b"s" * 300_000)

    assert response.status_code == 200
    seen = response.json()
    assert seen["body_bytes"] == 300_000
    assert ["content-length", "300000"] in seen["headers"]


def test_the_answers_head_arrives_before_a_body_the_upstream_holds_back(
    client: httpx.Client,
) -> None:
    # The head must come well within the read timeout; the body only after the 3 s
    # the backend waits. An edge holding the head for the body would time out here.
    head_timeout = httpx.Timeout(5.0, read=1.5)
    with client.stream("GET", "/bulk/late-body", timeout=head_timeout) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            response.read()  # the body is still held back: the head alone came


def test_a_small_answer_whose_body_lags_its_head_arrives_whole(client: httpx.Client) -> None:
    response = client.get("/bulk/lagging-body", params={"ms": "300"})

    assert response.status_code == 200
    assert response.content == b"late"
    assert response.headers["content-length"] == "4"


def test_a_small_answer_the_upstream_cuts_short_is_a_502_problem(client: httpx.Client) -> None:
    # Read whole before the client hears anything: the edge can still say what happened.
    assert_problem(client.get("/bulk/short-body"), 502)


def test_large_streamed_response_arrives_complete(client: httpx.Client) -> None:
    with client.stream("GET", "/bulk/big", params={"kb": "4096"}) as response:
        assert response.status_code == 200
        received = b"".join(response.iter_bytes())

    assert len(received) == 4096 * 1024
    assert received.count(b"x") == len(received)


def test_headers_over_16_kib_are_431_problem_without_upstream_call(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    assert_problem(client.get("/open/x", headers={"X-Big": "a" * 20_000}), 431)

    assert edge.upstream_calls() == before


def test_many_small_headers_over_16_kib_are_431(client: httpx.Client) -> None:
    headers = [(f"X-Part-{i}", "a" * 100) for i in range(200)]

    assert_problem(client.get("/open/x", headers=headers), 431)


def test_more_than_100_header_fields_are_431_however_small(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    response = client.get("/open/x", headers=[(f"X-F{i}", "1") for i in range(101)])

    assert_problem(response, 431)
    assert "too many header fields" in response.json()["detail"]
    assert edge.upstream_calls() == before


def test_90_header_fields_pass(client: httpx.Client) -> None:
    assert client.get("/open/x", headers=[(f"X-F{i}", "1") for i in range(90)]).status_code == 200


def test_headers_well_under_the_limit_pass(client: httpx.Client) -> None:
    assert client.get("/open/x", headers={"X-Big": "a" * 8_000}).status_code == 200


def test_a_head_that_never_ends_is_cut_off_at_64_kib(edge: EdgeUnderTest) -> None:
    """httptools has no header limit of its own: the edge's protocol bounds the memory."""
    context = edge.certs.client_context()
    with (
        socket.create_connection(("127.0.0.1", edge.edge_ports[0]), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET /open/x HTTP/1.1\r\nHost: localhost\r\n")
        answer = b""
        try:
            for _ in range(64):  # up to 1 MiB of header lines, never the blank line
                tls.sendall(b"X-Filler: " + b"a" * 16_000 + b"\r\n")
        except (ssl.SSLError, OSError):
            pass  # the edge closed the connection while we were still sending
        try:
            while chunk := tls.recv(65536):
                answer += chunk
        except (ssl.SSLError, OSError):
            pass

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer
