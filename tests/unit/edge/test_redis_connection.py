"""The pipelined Redis connection: replies in order, one timeout for all, AUTH/SELECT first."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge.redis_connection import (
    RedisAddress,
    RedisConnection,
    encode_command,
    parse_redis_url,
)
from edge.settings import load_settings
from service_defaults.settings import ConfigError
from tests.unit.edge.fake_redis import CLOSE, OK, SILENT, error, fake_redis


def echo(command: list[bytes]) -> bytes:
    if command[0] == b"ECHO":
        return b"$%d\r\n%s\r\n" % (len(command[1]), command[1])
    return OK


def address(port: int) -> RedisAddress:
    return RedisAddress(host="127.0.0.1", port=port)


async def test_replies_reach_their_commands_in_the_order_sent() -> None:
    async with fake_redis(echo) as server:
        connection = RedisConnection(address(server.port), timeout_s=1.0)
        try:
            replies = await asyncio.gather(
                *(connection.send(encode_command(b"ECHO", b"%d" % i)) for i in range(50))
            )
        finally:
            await connection.close()

    assert replies == [b"%d" % i for i in range(50)]
    assert server.connections == 1


async def test_a_caller_that_gave_up_does_not_shift_the_replies_of_the_others() -> None:
    async with fake_redis(echo) as server:
        connection = RedisConnection(address(server.port), timeout_s=1.0)
        try:
            abandoned = connection.send(encode_command(b"ECHO", b"first"))
            second = connection.send(encode_command(b"ECHO", b"second"))
            abandoned.cancel()
            assert await second == b"second"
            assert await connection.send(encode_command(b"ECHO", b"third")) == b"third"
        finally:
            await connection.close()


async def test_a_silent_redis_fails_every_waiting_command_after_the_timeout() -> None:
    async with fake_redis(lambda command: SILENT) as server:
        connection = RedisConnection(address(server.port), timeout_s=0.1)
        started = time.monotonic()
        results = await asyncio.gather(
            *(connection.send(encode_command(b"PING")) for _ in range(5)),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
        await connection.close()

    assert all(isinstance(result, TimeoutError) for result in results), results
    assert 0.09 <= elapsed < 1.0
    assert connection.closed


async def test_a_dropped_connection_fails_waiting_commands_and_stays_closed() -> None:
    async with fake_redis(lambda command: CLOSE) as server:
        connection = RedisConnection(address(server.port), timeout_s=1.0)
        with pytest.raises(ConnectionError):
            await connection.send(encode_command(b"PING"))
        await connection.close()

    assert connection.closed
    with pytest.raises(ConnectionError):
        connection.send(encode_command(b"PING"))


async def test_nothing_listening_fails_at_once() -> None:
    connection = RedisConnection(address(1), timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        await connection.send(encode_command(b"PING"))

    assert time.monotonic() - started < 1.0
    await connection.close()


async def test_auth_and_select_are_sent_before_any_command() -> None:
    async with fake_redis() as server:
        connection = RedisConnection(
            parse_redis_url(f"redis://alice:s%40cret@127.0.0.1:{server.port}/3"), timeout_s=1.0
        )
        try:
            assert await connection.send(encode_command(b"PING")) == b"OK"
        finally:
            await connection.close()

    assert server.commands == [[b"AUTH", b"alice", b"s@cret"], [b"SELECT", b"3"], [b"PING"]]


async def test_a_password_alone_is_sent_alone_and_db_0_is_not_selected() -> None:
    async with fake_redis() as server:
        connection = RedisConnection(
            parse_redis_url(f"redis://:pw@127.0.0.1:{server.port}"), timeout_s=1.0
        )
        try:
            await connection.send(encode_command(b"PING"))
        finally:
            await connection.close()

    assert server.commands == [[b"AUTH", b"pw"], [b"PING"]]


async def test_a_refused_password_fails_the_commands_behind_it() -> None:
    def refuse_auth(command: list[bytes]) -> bytes:
        if command[0] == b"AUTH":
            return error("WRONGPASS invalid username-password pair")
        return error("NOAUTH Authentication required.")

    async with fake_redis(refuse_auth) as server:
        connection = RedisConnection(
            parse_redis_url(f"redis://:wrong@127.0.0.1:{server.port}"), timeout_s=1.0
        )
        with pytest.raises(ConnectionError, match="WRONGPASS"):
            await connection.send(encode_command(b"PING"))
        await connection.close()

    assert connection.closed


def test_a_url_gives_host_port_db_and_credentials() -> None:
    assert parse_redis_url("redis://u:p%3Aw@cache.internal:6380/2") == RedisAddress(
        host="cache.internal", port=6380, db=2, username="u", password="p:w"
    )
    assert parse_redis_url("rediss://cache.internal") == RedisAddress(
        host="cache.internal", port=6379, tls=True
    )


def test_the_password_never_shows_in_the_address() -> None:
    assert "hunter2" not in repr(parse_redis_url("redis://:hunter2@localhost/0"))


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("unix:///run/redis.sock", "'unix' is not supported"),
        ("http://localhost:6379", "'http' is not supported"),
        ("redis://localhost/0?ssl_cert_reqs=none", "query parameters"),
        ("redis://localhost/cache", "db number"),
        ("redis://localhost:port/0", "port"),
        ("redis://alice@localhost/0", "without a password"),
    ],
)
def test_a_url_the_connection_cannot_honour_is_refused(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_redis_url(url)


def test_the_edge_refuses_to_start_with_a_redis_url_it_cannot_use() -> None:
    environ = {
        "EDGE_TLS_CERTFILE": "cert.pem",
        "EDGE_TLS_KEYFILE": "key.pem",
        "EDGE_RATE_LIMIT_REDIS_URL": "unix:///run/redis.sock",
    }
    with pytest.raises(ConfigError, match=r"EDGE_RATE_LIMIT_REDIS_URL: .*'unix'"):
        load_settings(environ)
