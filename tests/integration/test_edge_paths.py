"""Request targets sent byte for byte over TLS, where an HTTP client would have normalised them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test
from tests.running_stack import access_entry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-paths")) as running:
        yield running


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


def parse_response(data: bytes) -> RawResponse:
    """One HTTP/1.1 response, read until the server closed the connection."""
    head, separator, rest = data.partition(b"\r\n\r\n")
    assert separator, f"no complete response head in {data[:200]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") != "chunked":
        return RawResponse(int(status_line.split()[1]), headers, rest)
    body = b""
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return RawResponse(int(status_line.split()[1]), headers, body)
        body, rest = body + rest[:size], rest[size + 2 :]


def send(edge: EdgeUnderTest, request_line: bytes, *headers: bytes) -> RawResponse:
    request = request_line + b"\r\nHost: localhost\r\nConnection: close\r\n"
    request += b"".join(header + b"\r\n" for header in headers) + b"\r\n"
    return parse_response(edge.raw(request))


@pytest.mark.parametrize(
    "target",
    [
        b"/open/../api",
        b"/open/%2e%2e/api",
        b"/open/%2E%2e/x",
        b"/open/a%2fb",
        b"/open/a%5cb",
        b"/open/a\\b",
        b"/open/%00",
        b"/open/%0a",
        b"/open/./x",
    ],
)
def test_ambiguous_path_is_400_problem_without_upstream_call(
    edge: EdgeUnderTest, target: bytes
) -> None:
    before = edge.upstream_calls()

    response = send(edge, b"GET " + target + b" HTTP/1.1")

    assert response.status == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert edge.upstream_calls() == before


@pytest.mark.parametrize(
    "request_line",
    [b"TRACE /open HTTP/1.1", b"CONNECT /open HTTP/1.1", b"CONNECT localhost:443 HTTP/1.1"],
)
def test_trace_and_connect_never_reach_an_upstream(
    edge: EdgeUnderTest, request_line: bytes
) -> None:
    before = edge.upstream_calls()

    response = send(edge, request_line)

    assert response.status in (400, 405)
    assert edge.upstream_calls() == before


def test_query_string_reaches_the_upstream_byte_for_byte(edge: EdgeUnderTest) -> None:
    query = b"b=2&a=%20x&a=%2F&empty=&plus=a+b&tilde=%7e&bare"

    response = send(edge, b"GET /open/q?" + query + b" HTTP/1.1")

    assert response.status == 200
    seen = response.json()
    assert seen["raw_path"] == "/open/q"
    assert seen["query"] == query.decode()


def test_encoded_newline_in_the_path_cannot_forge_a_log_line(edge: EdgeUnderTest) -> None:
    marker = f"FORGED-{uuid.uuid4().hex}"
    target = f"/open/%0d%0a{marker}%20GET%20/admin%20200".encode()

    response = send(edge, b"GET " + target + b" HTTP/1.1")

    assert response.status == 400
    request_id = response.headers["x-request-id"]
    process = edge.stack.processes["edge0"]
    access = access_entry(process, request_id)
    assert access["path"] == target.decode()  # as sent, still percent-encoded
    holding = [line for line in process.output().splitlines() if marker in line]
    for line in holding:  # the marker only ever inside a line of the edge's own
        assert json.loads(line)["request_id"] == request_id, f"the client wrote a line: {line}"
