"""The proxy: every request gets a request id, one answer, one access line and its RED metrics."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from edge.admission import Admission
from edge.auth import Authenticator
from edge.client_address import ClientAddressResolver
from edge.edge_config import EdgeConfig
from edge.exchange import Exchange
from edge.forwarding import Forwarder
from edge.headers import HeaderPolicy
from edge.metrics import EdgeMetrics
from edge.proxy import Proxy
from edge.rate_limits import MemoryLimiter
from edge.route_file import load_route_table
from edge.rules.rate_limit import RateLimitRule
from edge.upstream_client import UpstreamClient
from service_defaults.metrics import HttpMetrics
from service_defaults.request_context import Access
from tests.unit.edge.conftest import Connection, request_head
from tests.unit.edge.scripted_upstream import ScriptedUpstream, ok

NOSNIFF = (b"x-content-type-options", b"nosniff")


class Broken(Forwarder):
    """A forwarder with a bug: before the answer started, or after."""

    def __init__(self, *, after_start: bool) -> None:
        self._after_start = after_start

    async def forward(self, exchange: Exchange, *_: Any, **__: Any) -> None:
        if self._after_start:
            exchange.start(200, [(b"content-length", b"10")])
            await exchange.write(b"half")
        raise RuntimeError("a bug")


@dataclass(frozen=True)
class Built:
    proxy: Proxy
    registry: CollectorRegistry

    def requests(self, route: str, status: int, method: str = "GET") -> float:
        labels = {"route": route, "method": method, "status": str(status)}
        return self.registry.get_sample_value("frontdoor_http_requests_total", labels) or 0.0


def build(
    tmp_path: Path,
    origin: str,
    authenticator: Authenticator,
    *,
    forwarder: Forwarder | None = None,
    client: UpstreamClient | None = None,
) -> Built:
    document = {
        "cors": {"site": {"allow_origins": ["https://app.test"]}},
        "routes": [
            {"name": "open", "path": {"value": "/open"}, "upstream": "api", "auth": "none"},
            {"name": "api", "path": {"value": "/api"}, "upstream": "api", "cors": "site"},
        ],
    }
    path = tmp_path / "routes.yaml"
    path.write_text(json.dumps(document))
    table = load_route_table(path, {"api": origin})
    edge_metrics = EdgeMetrics()
    http_metrics = HttpMetrics(edge_metrics.registry)
    proxy = Proxy(
        EdgeConfig(table, authenticator),
        Admission(
            RateLimitRule(MemoryLimiter(), edge_metrics),
            max_header_fields=100,
            max_header_bytes=16 * 1024,
        ),
        forwarder or Forwarder(client or UpstreamClient(), HeaderPolicy([]), edge_metrics),
        client_addresses=ClientAddressResolver([]),
        http_metrics=http_metrics,
        response_headers=[NOSNIFF],
    )
    return Built(proxy, edge_metrics.registry)


def answer(connection: Connection) -> tuple[bytes, dict[bytes, bytes], bytes]:
    written = connection.transport.take()
    head, _, body = written.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    fields = dict(line.split(b": ", 1) for line in lines)
    return status_line, {name.lower(): value for name, value in fields.items()}, body


async def test_a_forwarded_answer_carries_the_clients_well_formed_request_id(
    tmp_path: Path,
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    authenticator: Authenticator,
    connection: Connection,
) -> None:
    built = build(tmp_path, upstream.origin, authenticator, client=client)
    upstream.answer(ok())
    exchange = connection.exchange(request_head("GET", "/open", [("x-request-id", "abc-123")]))
    connection.transport.take()

    await built.proxy.handle(exchange)

    status_line, headers, body = answer(connection)
    assert status_line == b"HTTP/1.1 200 OK"
    assert headers[b"x-request-id"] == b"abc-123"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert body == b"hello"
    sent = dict(upstream.requests[0].headers)
    assert sent[b"x-request-id"] == b"abc-123"


async def test_a_malformed_request_id_is_replaced_by_a_minted_one(
    tmp_path: Path, authenticator: Authenticator, connection: Connection
) -> None:
    built = build(tmp_path, "http://127.0.0.1:9", authenticator)
    exchange = connection.exchange(request_head("GET", "/nowhere", [("x-request-id", "a b\tc")]))
    connection.transport.take()

    await built.proxy.handle(exchange)

    _, headers, _ = answer(connection)
    assert headers[b"x-request-id"] != b"a b\tc"
    assert len(headers[b"x-request-id"]) == 32


async def test_a_refusal_is_a_problem_with_the_request_id_and_the_routes_cors_headers(
    tmp_path: Path, authenticator: Authenticator, connection: Connection
) -> None:
    built = build(tmp_path, "http://127.0.0.1:9", authenticator)
    exchange = connection.exchange(
        request_head("GET", "/api/x", [("x-request-id", "rid-7"), ("origin", "https://app.test")])
    )
    connection.transport.take()

    await built.proxy.handle(exchange)

    status_line, headers, body = answer(connection)
    assert status_line.startswith(b"HTTP/1.1 401 ")
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"www-authenticate"] == b"Bearer"
    assert headers[b"access-control-allow-origin"] == b"https://app.test"
    assert headers[b"x-request-id"] == b"rid-7"
    problem = msgspec.json.decode(body)
    assert problem["status"] == 401
    assert problem["request_id"] == "rid-7"
    assert problem["instance"] == "/api/x"
    assert built.requests("api", 401) == 1


async def test_every_request_gets_one_access_line_naming_its_route(
    tmp_path: Path,
    authenticator: Authenticator,
    connection: Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    built = build(tmp_path, "http://127.0.0.1:9", authenticator)
    exchange = connection.exchange(request_head("GET", "/api/caf%C3%A9?secret=1"))

    with caplog.at_level(logging.INFO, logger="frontdoor.access"):
        await built.proxy.handle(exchange)

    [record] = [r for r in caplog.records if r.name == "frontdoor.access"]
    access = record.msg
    assert isinstance(access, Access)
    assert (access.method, access.route, access.status) == ("GET", "api", 401)
    assert access.path == "/api/caf%C3%A9", "percent-encoded as sent, and never the query"
    assert access.client == "203.0.113.9"


async def test_a_bug_before_the_answer_is_a_500_problem_not_a_dropped_connection(
    tmp_path: Path, authenticator: Authenticator, connection: Connection
) -> None:
    built = build(
        tmp_path, "http://127.0.0.1:9", authenticator, forwarder=Broken(after_start=False)
    )
    exchange = connection.exchange(request_head("GET", "/open"))
    connection.transport.take()

    await built.proxy.handle(exchange)

    status_line, headers, body = answer(connection)
    assert status_line.startswith(b"HTTP/1.1 500 ")
    assert b"RuntimeError" not in body and b"Traceback" not in body
    assert headers[b"x-request-id"]
    assert built.requests("open", 500) == 1


async def test_a_bug_after_the_answer_started_cuts_the_connection_and_is_logged(
    tmp_path: Path,
    authenticator: Authenticator,
    connection: Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    forwarder = Broken(after_start=True)
    built = build(tmp_path, "http://127.0.0.1:9", authenticator, forwarder=forwarder)
    exchange = connection.exchange(request_head("GET", "/open"))

    with caplog.at_level(logging.ERROR, logger="frontdoor.edge"):
        await built.proxy.handle(exchange)

    assert connection.transport.closed
    assert not exchange.complete
    assert "proxy failed on GET" in caplog.text


async def test_a_client_that_leaves_mid_body_is_recorded_as_499(
    tmp_path: Path,
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    authenticator: Authenticator,
    connection: Connection,
) -> None:
    built = build(tmp_path, upstream.origin, authenticator, client=client)
    exchange = connection.exchange(request_head("POST", "/open", [("content-length", "10")]))
    connection.send(b"hal")
    connection.drop()

    await built.proxy.handle(exchange)

    assert upstream.requests == []
    assert built.requests("open", 499, "POST") == 1
