"""The edge speaks only TLS 1.2 or newer, and tells browsers so with HSTS on every answer."""

from __future__ import annotations

import os
import socket
import ssl
import warnings
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

HSTS = "max-age=31536000"  # EDGE_HSTS_MAX_AGE_S's default


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-transport")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def permissive_context(edge: EdgeUnderTest, maximum: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers every version up to `maximum`, old ones included."""
    context = edge.certs.client_context()
    with warnings.catch_warnings():
        # Python deprecates naming TLS 1.0 and 1.1; offering them is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
    # OpenSSL's default security level would stop this client from offering 1.1
    # itself, and the test would then prove nothing about the server.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def handshake(edge: EdgeUnderTest, context: ssl.SSLContext) -> str:
    with (
        socket.create_connection(("127.0.0.1", edge.edge_ports[0]), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        return tls.version() or ""


@pytest.mark.parametrize("path", ["/open/x", "/nowhere", "/api/x", "/livez"])
def test_every_answer_carries_hsts(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code in (200, 401, 404)
    assert response.headers["strict-transport-security"] == HSTS


def test_tls_1_2_is_accepted(edge: EdgeUnderTest) -> None:
    context = edge.certs.client_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2

    assert handshake(edge, context) == "TLSv1.2"


def test_tls_1_3_is_accepted(edge: EdgeUnderTest) -> None:
    assert handshake(edge, edge.certs.client_context()) == "TLSv1.3"


def test_tls_1_1_is_refused(edge: EdgeUnderTest) -> None:
    if not ssl.HAS_TLSv1_1 and os.environ.get("CI") != "true":
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1, so cannot ask for it")
    # The same permissive client, allowed up to 1.2, gets through: only the version differs.
    assert handshake(edge, permissive_context(edge, ssl.TLSVersion.TLSv1_2)) == "TLSv1.2"
    try:
        context = permissive_context(edge, ssl.TLSVersion.TLSv1_1)
    except (ssl.SSLError, ValueError):
        return  # this OpenSSL will not even build a TLS 1.1 client: nothing speaks it here
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        handshake(edge, context)


def test_plain_http_to_the_tls_port_gets_no_http_answer(edge: EdgeUnderTest) -> None:
    with socket.create_connection(("127.0.0.1", edge.edge_ports[0]), timeout=5) as sock:
        sock.sendall(b"GET /open/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:
            answer = b""

    assert not answer.startswith(b"HTTP/")
    assert b"200 OK" not in answer
