"""Fixtures for the edge: route tables loaded from a route file, requests parsed by uvicorn, tokens.

Routes are built only through `load_route_table`, as the edge builds them, so
these tests follow the route file's defaults and never the `Route` constructor.
Requests are raw bytes fed to the edge's own protocol over a transport that
records what is written: the `Exchange` is the one the protocol made, and a test
sees the bytes a client would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import jwt
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from edge.auth import Authenticator
from edge.exchange import Exchange
from edge.http_protocol import EdgeProtocol, ProxiedRequests
from edge.idle_connections import IdleConnections
from edge.route_file import load_route_table
from edge.routing import Route, RouteTable
from edge.upstream_client import UpstreamClient
from service_defaults.tokens import TokenVerifier
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer
from tests.unit.edge.scripted_upstream import ScriptedUpstream

T = TypeVar("T")
Entry = dict[str, Any]

UPSTREAMS = {"api": "http://api.test", "other": "http://other.test/"}
PEER = "203.0.113.9"
# The server's own headers, as uvicorn keeps them for every answer.
DATE = (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")
# What should come at once but waits for a body that never comes fails the test
# after this long instead of hanging it.
HANG_GUARD_S = 2.0


async def soon(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, HANG_GUARD_S)


class RouteFiles:
    """Route files written to a directory and loaded as the edge loads them."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._written = 0

    def table(self, routes: Sequence[Entry], policies: Entry | None = None) -> RouteTable:
        """`policies`: the file's other sections, `rate_limits` and `cors`, as written."""
        document: Entry = {"routes": list(routes), **(policies or {})}
        self._written += 1
        # JSON is YAML: the route file's own decoder reads it.
        path = self._directory / f"routes-{self._written}.yaml"
        path.write_text(json.dumps(document))
        return load_route_table(path, UPSTREAMS)

    def route(self, policies: Entry | None = None, **entry: Any) -> Route:
        """One route: "api", the prefix /api, upstream "api", unless `entry` says otherwise."""
        entry = {"name": "api", "path": {"value": "/api"}, "upstream": "api", **entry}
        route = self.table([entry], policies).match(entry["path"]["value"])
        assert route is not None
        return route


@pytest.fixture
def route_files(tmp_path: Path) -> RouteFiles:
    return RouteFiles(tmp_path)


class RecordingTransport(asyncio.Transport):
    """A client's socket as the server sees it: every write kept, closing remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview[Any]) -> None:
        assert not self.closed, "written after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": (PEER, 50123), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def take(self) -> bytes:
        """What was written since the last take."""
        data = bytes(self.written)
        self.written.clear()
        return data


class _ExchangesKept(EdgeProtocol):
    """The edge's protocol, unchanged but for one seam: each request it would hand to
    the proxy is kept for the test instead."""

    proxied = ProxiedRequests()
    idle = IdleConnections()
    started: list[Exchange]

    def _start(self, exchange: Exchange) -> None:
        self._current = exchange
        self.started.append(exchange)


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("requests go to the test, not to an app")


class Connection:
    """One client connection to the edge's protocol."""

    def __init__(self) -> None:
        config = Config(app=_never_called, log_config=None, http="httptools", lifespan="off")
        state = ServerState()
        state.default_headers = [DATE]
        self.transport = RecordingTransport()
        self.protocol = _ExchangesKept(config, state, {}, asyncio.get_running_loop())
        self.protocol.started = []
        self.protocol.connection_made(self.transport)

    def send(self, data: bytes) -> None:
        self.protocol.data_received(data)

    def exchange(self, data: bytes = b"") -> Exchange:
        """Send `data` (typically a whole head), then the request the server started last."""
        if data:
            self.send(data)
        assert self.protocol.started, "no request was started"
        return self.protocol.started[-1]

    def drop(self) -> None:
        """The client goes away."""
        self.protocol.connection_lost(None)


def request_head(
    method: str = "GET",
    target: str = "/api",
    headers: Sequence[tuple[str, str]] = (),
    *,
    version: str = "1.1",
) -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "host: edge.test"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.fixture
async def connection() -> AsyncIterator[Connection]:
    opened = Connection()
    yield opened
    opened.drop()  # also stops the idle-connection timer


class StaticKeys:
    """The issuer's one public key, known from the start: no JWKS fetch involved."""

    def __init__(self, issuer: TestIssuer) -> None:
        self._kid = issuer.kid
        self._key = jwt.PyJWK(issuer.jwks()["keys"][0])

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        return self._key if kid == self._kid else None

    @property
    def ready(self) -> bool:
        return True


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def authenticator(issuer: TestIssuer) -> Authenticator:
    """Verifies tokens for the audiences "frontdoor" (the route default) and "partners"."""
    verifier = TokenVerifier(StaticKeys(issuer), issuer=ISSUER, audience=[AUDIENCE, "partners"])
    return Authenticator(verifier)


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    """A scripted upstream on 127.0.0.1 (see `scripted_upstream`)."""
    async with ScriptedUpstream() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    """The edge's upstream client, closed after the test."""
    opened = UpstreamClient()
    yield opened
    await opened.close()
