"""The uvloop + httptools yardstick proxies like a proxy: in order, kept alive, 502 when down."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from bench.bare_httptools_proxy import create_proxy
from bench.processes import free_ports
from devstack.certs import DevCertificates, ensure_dev_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> DevCertificates:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"))


class Backend:
    """Answers every request with its own path; keeps each request's head and connection."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.heads.append(head)
                path = head.split(b" ", 2)[1]
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(path), path))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass  # the proxy closed its upstream connection
        finally:
            writer.close()


async def proxy_url(backend: str, certs: DevCertificates) -> tuple[str, asyncio.Server]:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certs.cert_file, certs.key_file)
    server = await create_proxy(backend, tls)
    port = server.sockets[0].getsockname()[1]
    return f"https://127.0.0.1:{port}", server


@pytest.fixture
async def backend() -> AsyncIterator[tuple[Backend, str]]:
    serving = Backend()
    server = await asyncio.start_server(serving.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield serving, f"http://127.0.0.1:{port}"


async def test_requests_reuse_one_upstream_connection(
    backend: tuple[Backend, str], certs: DevCertificates
) -> None:
    serving, url = backend
    base, server = await proxy_url(url, certs)
    async with server, httpx.AsyncClient(verify=certs.client_context()) as client:
        answers = [(await client.get(f"{base}/item/{n}?q=1")).content for n in range(3)]
    assert answers == [b"/item/0?q=1", b"/item/1?q=1", b"/item/2?q=1"]
    assert serving.connections == 1


async def test_host_is_the_backend_and_hop_by_hop_headers_stay_behind(
    backend: tuple[Backend, str], certs: DevCertificates
) -> None:
    serving, url = backend
    base, server = await proxy_url(url, certs)
    headers = {"Keep-Alive": "timeout=5", "X-Request-Id": "r-1"}
    async with server, httpx.AsyncClient(verify=certs.client_context()) as client:
        assert (await client.get(f"{base}/x", headers=headers)).status_code == 200
    head = serving.heads[0].lower()
    assert f"host: {url.removeprefix('http://')}\r\n".encode() in head
    assert b"x-request-id: r-1\r\n" in head
    assert b"keep-alive" not in head


async def test_backend_down_is_502(certs: DevCertificates) -> None:
    (closed_port,) = free_ports(1)
    base, server = await proxy_url(f"http://127.0.0.1:{closed_port}", certs)
    async with server, httpx.AsyncClient(verify=certs.client_context()) as client:
        assert (await client.get(f"{base}/x")).status_code == 502
