"""An upstream that is down or too slow: 502 and 504 problems that leak nothing internal."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

SLOW_MS = 3000  # the "open" route gives up after 1 s


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-upstream-failures")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def test_dead_upstream_is_502_problem_without_its_address(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    dead = urlsplit(json.loads(edge.stack.specs["edge0"].env["EDGE_UPSTREAMS"])["dead"])

    response = client.get("/dead/x")

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 502
    for internal in (str(dead.port), "127.0.0.1", "Connect", "refused", "Traceback"):
        assert internal not in response.text


def test_slow_upstream_is_504_problem_before_the_upstream_answers(client: httpx.Client) -> None:
    started = time.monotonic()

    response = client.get("/open/slow", params={"ms": str(SLOW_MS)})

    elapsed_s = time.monotonic() - started
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 504
    assert elapsed_s < SLOW_MS / 1000


def test_edge_keeps_serving_after_upstream_failures(client: httpx.Client) -> None:
    assert client.get("/dead/x").status_code == 502
    assert client.get("/open/x").status_code == 200


def test_upload_that_spends_the_route_timeout_still_gets_a_deadline(edge: EdgeUnderTest) -> None:
    # The route's 1 s covers the whole exchange. A client that takes longer than
    # that to send its (small) body has spent it: the upstream call must not then
    # run without any deadline at all.
    head = (
        f"POST /open/slow?ms={SLOW_MS} HTTP/1.1\r\nHost: localhost\r\n"
        "Connection: close\r\nContent-Length: 2\r\n\r\n"
    ).encode()
    with (
        socket.create_connection(("127.0.0.1", edge.edge_ports[0]), timeout=10) as sock,
        edge.certs.client_context().wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(head)
        time.sleep(1.2)
        body_sent = time.monotonic()
        tls.sendall(b"{}")
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    elapsed_s = time.monotonic() - body_sent

    status = int(answer.split(b" ", 2)[1])
    assert status in (408, 504), answer[:300]
    assert elapsed_s < SLOW_MS / 1000
