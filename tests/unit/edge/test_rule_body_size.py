"""The body-size rule: over the route's limit is a 413, declared or found while reading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route
from edge.rules.body_size import SMALL_BODY, declared_length, request_body
from tests.unit.edge.conftest import Connection, RouteFiles, request_head, soon

LIMIT = 100
CHUNKED = ("Transfer-Encoding", "chunked")


@pytest.fixture
def route(route_files: RouteFiles) -> Route:
    return route_files.route(max_body_bytes=LIMIT)


def length(value: int) -> RequestFields:
    return RequestFields([(b"content-length", b"%d" % value)])


def post(*headers: tuple[str, str]) -> bytes:
    return request_head("POST", "/api", headers)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def test_no_declared_length_is_none(route: Route) -> None:
    assert declared_length(route, RequestFields([])) is None


@pytest.mark.parametrize("value", [0, 1, LIMIT])
def test_a_declared_length_up_to_the_limit_is_returned(route: Route, value: int) -> None:
    assert declared_length(route, length(value)) == value


def test_a_declared_length_over_the_limit_is_413(route: Route) -> None:
    with pytest.raises(Refused) as refused:
        declared_length(route, length(LIMIT + 1))

    assert refused.value.status == 413


async def test_a_malformed_length_never_reaches_the_rule(connection: Connection) -> None:
    # The rule trusts the server to refuse it: a 400 from uvicorn, no request started.
    connection.send(post(("Content-Length", "12abc")))

    assert connection.transport.take().startswith(b"HTTP/1.1 400 ")
    assert connection.protocol.started == []


async def test_a_request_without_a_body_reads_nothing(connection: Connection, route: Route) -> None:
    exchange = connection.exchange(request_head())

    assert await soon(request_body(exchange, route, RequestFields(exchange.headers))) is None


async def test_a_small_declared_body_is_read_whole(connection: Connection, route: Route) -> None:
    exchange = connection.exchange(post(("Content-Length", "5")))
    reading = asyncio.create_task(request_body(exchange, route, RequestFields(exchange.headers)))
    await asyncio.sleep(0)
    connection.send(b"ab")
    await asyncio.sleep(0)
    connection.send(b"cde")

    assert await soon(reading) == b"abcde"


async def test_an_empty_declared_body_is_empty_bytes(connection: Connection, route: Route) -> None:
    exchange = connection.exchange(post(("Content-Length", "0")))

    assert await soon(request_body(exchange, route, RequestFields(exchange.headers))) == b""


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    connection: Connection, route: Route
) -> None:
    exchange = connection.exchange(post(("Content-Length", "101"), ("Expect", "100-continue")))

    with pytest.raises(Refused) as refused:
        await soon(request_body(exchange, route, RequestFields(exchange.headers)))

    assert refused.value.status == 413
    # The client was never invited to send it.
    assert connection.transport.take() == b""


async def test_a_chunked_body_within_the_limit_is_read_whole(
    connection: Connection, route: Route
) -> None:
    exchange = connection.exchange(
        post(CHUNKED) + chunk(b"x" * 60) + chunk(b"y" * 40) + b"0\r\n\r\n"
    )

    body = await soon(request_body(exchange, route, RequestFields(exchange.headers)))

    assert body == b"x" * 60 + b"y" * 40


async def test_a_chunked_body_over_the_limit_is_413_before_it_ends(
    connection: Connection, route: Route
) -> None:
    exchange = connection.exchange(post(CHUNKED) + chunk(b"x" * 60))
    reading = asyncio.create_task(request_body(exchange, route, RequestFields(exchange.headers)))
    await asyncio.sleep(0)

    connection.send(chunk(b"y" * 41))  # 101 bytes so far, and the body goes on

    with pytest.raises(Refused) as refused:
        await soon(reading)
    assert refused.value.status == 413


async def test_a_large_declared_body_streams_each_part_as_it_arrives(
    connection: Connection, route_files: RouteFiles
) -> None:
    size = SMALL_BODY + 10
    route = route_files.route(max_body_bytes=size)
    exchange = connection.exchange(post(("Content-Length", str(size))))

    body = await soon(request_body(exchange, route, RequestFields(exchange.headers)))

    assert isinstance(body, AsyncIterator)
    connection.send(b"a" * 10)
    assert await soon(anext(body)) == b"a" * 10, "a part is passed on before the rest arrives"
    connection.send(b"b" * SMALL_BODY)
    assert await soon(anext(body)) == b"b" * SMALL_BODY
    with pytest.raises(StopAsyncIteration):
        await soon(anext(body))


async def test_a_body_of_exactly_the_small_size_is_still_read_whole(
    connection: Connection, route_files: RouteFiles
) -> None:
    route = route_files.route(max_body_bytes=SMALL_BODY)
    exchange = connection.exchange(post(("Content-Length", str(SMALL_BODY))) + b"z" * SMALL_BODY)

    body = await soon(request_body(exchange, route, RequestFields(exchange.headers)))

    assert body == b"z" * SMALL_BODY
