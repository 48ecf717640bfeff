"""The edge's own HTTP/1.1 protocol over real TLS connections: what it does with a
connection as a whole, beyond any one route's rules."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator

import httptools
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

# uvicorn's `timeout_keep_alive`, which the edge keeps; its sweep runs once a second.
KEEP_ALIVE_S = 5.0


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-connections")) as running:
        yield running


def connect(edge: EdgeUnderTest) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", edge.edge_ports[0]), timeout=10)
    return edge.certs.client_context().wrap_socket(sock, server_hostname="localhost")


def read_until_closed(tls: ssl.SSLSocket) -> bytes:
    received = b""
    while chunk := tls.recv(65536):
        received += chunk
    return received


class Answers:
    """Answers as httptools parses them off one connection: statuses and bodies, in order."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.statuses: list[int] = []
        self.bodies: list[bytes] = []

    def on_message_begin(self) -> None:
        self.bodies.append(b"")

    def on_body(self, body: bytes) -> None:
        self.bodies[-1] += body

    def on_message_complete(self) -> None:
        self.statuses.append(self.parser.get_status_code())


def read_answers(tls: ssl.SSLSocket, count: int) -> Answers:
    answers = Answers()
    while len(answers.statuses) < count:
        chunk = tls.recv(65536)
        assert chunk, f"closed after {len(answers.statuses)} answers"
        answers.parser.feed_data(chunk)
    return answers


def closed_by_peer(tls: ssl.SSLSocket) -> bool:
    try:
        return tls.recv(1) == b""
    except (ConnectionError, ssl.SSLError):
        return True


def test_a_malformed_request_is_a_400_problem_with_a_request_id_and_the_connection_closed(
    edge: EdgeUnderTest,
) -> None:
    with connect(edge) as tls:
        tls.sendall(b"GET /open/x HTTP/1.1\r\nhost: edge.test\r\nno colon here\r\n\r\n")
        answer = read_until_closed(tls)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == 400
    assert f"x-request-id: {problem['request_id']}".encode() in head
    assert b"strict-transport-security: max-age=" in head, "HSTS on every answer"


def test_pipelined_requests_are_answered_in_order_on_one_connection(edge: EdgeUnderTest) -> None:
    request = b"GET /open/%s HTTP/1.1\r\nhost: edge.test\r\n\r\n"

    with connect(edge) as tls:
        tls.sendall(request % b"first" + request % b"second" + request % b"third")
        answers = read_answers(tls, 3)

    assert answers.statuses == [200, 200, 200]
    # The echo backend answers with the path it was asked for.
    paths = [json.loads(body)["raw_path"] for body in answers.bodies]
    assert paths == ["/open/first", "/open/second", "/open/third"]


def test_connections_waiting_for_their_client_are_closed_after_the_keep_alive_bound(
    edge: EdgeUnderTest,
) -> None:
    with connect(edge) as idle, connect(edge) as half_head, connect(edge) as later_client:
        idle.sendall(b"GET /open/x HTTP/1.1\r\nhost: edge.test\r\n\r\n")
        read_answers(idle, 1)
        half_head.sendall(b"GET /open/x HTTP/1.1\r\nhost: edge.test\r\n")  # never finished
        started = time.monotonic()
        # Within the bound, a connection kept alive still serves.
        time.sleep(KEEP_ALIVE_S / 2)
        later_client.sendall(b"GET /open/x HTTP/1.1\r\nhost: edge.test\r\n\r\n")
        read_answers(later_client, 1)

        idle.settimeout(KEEP_ALIVE_S + 3)
        half_head.settimeout(KEEP_ALIVE_S + 3)
        assert closed_by_peer(idle)
        assert closed_by_peer(half_head)
        waited = time.monotonic() - started

    assert KEEP_ALIVE_S - 0.5 <= waited <= KEEP_ALIVE_S + 2.5
