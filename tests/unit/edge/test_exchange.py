"""`Exchange`: the body read from uvicorn's connection state, the answer written to the wire."""

from __future__ import annotations

import asyncio

import pytest

from edge.exchange import ClientGone
from tests.unit.edge.conftest import DATE, PEER, Connection, request_head, soon

HEAD_OF_200 = b"HTTP/1.1 200 OK\r\ndate: " + DATE[1] + b"\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
TEXT = (b"content-type", b"text/plain")


def body_request(length: int, *extra: tuple[str, str]) -> bytes:
    return request_head("POST", "/api", [("content-length", str(length)), *extra])


def body_of(wire: bytes) -> bytes:
    """What follows the answer's head."""
    _, blank, body = wire.partition(b"\r\n\r\n")
    assert blank, f"no whole head in {wire!r}"
    return body


async def settle() -> None:
    """Let every task that can run, run: what is still pending is really waiting."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_exchange_holds_the_request_as_sent(connection: Connection) -> None:
    exchange = connection.exchange(
        request_head("GET", "/api/caf%C3%A9?a=1&b=%2F", [("X-Custom", "Value")])
    )

    assert exchange.method == "GET"
    assert exchange.raw_path == b"/api/caf%C3%A9", "still percent-encoded"
    assert exchange.query == b"a=1&b=%2F"
    assert (b"x-custom", b"Value") in exchange.headers, "names lower-cased, values kept"
    assert exchange.peer == PEER
    assert exchange.http_version == "1.1"
    assert not exchange.started


async def test_respond_writes_the_head_with_its_length_then_the_body(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head())
    connection.transport.take()

    exchange.respond(200, [TEXT], b"hello")

    assert connection.transport.take() == (
        HEAD_OF_200 + b"content-type: text/plain\r\ncontent-length: 5\r\n\r\nhello"
    )
    assert exchange.status == 200
    assert exchange.started
    assert exchange.complete
    assert not connection.transport.closed, "HTTP/1.1 keeps the connection alive"


async def test_a_head_request_gets_the_length_but_no_body(connection: Connection) -> None:
    exchange = connection.exchange(request_head("HEAD"))

    exchange.respond(200, [TEXT], b"hello")

    written = connection.transport.take()
    assert b"content-length: 5\r\n" in written
    assert written.endswith(b"\r\n\r\n")
    assert b"hello" not in written


@pytest.mark.parametrize("status", [204, 304])
async def test_a_204_or_304_answer_gets_no_body(connection: Connection, status: int) -> None:
    exchange = connection.exchange(request_head())

    exchange.respond(status, [], b"never sent")

    written = connection.transport.take()
    assert written.startswith(b"HTTP/1.1 %d " % status)
    assert written.endswith(b"\r\n\r\n")
    assert b"never sent" not in written


@pytest.mark.parametrize("status", [204, 304])
async def test_a_204_or_304_answer_carries_no_content_length(
    connection: Connection, status: int
) -> None:
    # RFC 9110 section 8.6: never in a 204; in a 304 only the 200's length, unknown here.
    exchange = connection.exchange(request_head("OPTIONS"))

    exchange.respond(status, [(b"vary", b"Origin")], b"")

    assert b"content-length" not in connection.transport.take()


async def test_a_status_without_a_phrase_still_gets_a_status_line(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head())

    exchange.respond(599, [], b"")

    assert connection.transport.take().startswith(b"HTTP/1.1 599 \r\n")


async def test_a_status_outside_the_table_never_leaves_a_half_started_exchange(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head())

    try:
        exchange.start(700, [])
    except (KeyError, ValueError):
        # Refusing it is fine, if a problem answer can still be sent instead.
        assert not exchange.started
    else:
        exchange.end()
        assert connection.transport.take().startswith(b"HTTP/1.1 700 ")


async def test_a_stream_without_a_length_is_sent_chunked(connection: Connection) -> None:
    exchange = connection.exchange(request_head())
    connection.transport.take()

    exchange.start(200, [TEXT])
    await exchange.write(b"ab")
    await exchange.write(b"cdefghijklmnopq")
    exchange.end()

    assert connection.transport.take() == (
        HEAD_OF_200 + b"content-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
        b"2\r\nab\r\nf\r\ncdefghijklmnopq\r\n0\r\n\r\n"
    )
    assert exchange.complete


async def test_an_empty_chunk_does_not_end_a_chunked_stream(connection: Connection) -> None:
    exchange = connection.exchange(request_head())
    exchange.start(200, [])

    await exchange.write(b"")
    await exchange.write(b"x")
    exchange.end()

    # A zero-length chunk would be the terminator, and "x" a next response.
    assert body_of(connection.transport.take()) == b"1\r\nx\r\n0\r\n\r\n"


async def test_a_stream_that_ends_without_a_chunk_still_sends_its_head(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head())

    exchange.start(200, [(b"content-length", b"0")])
    exchange.end()

    assert connection.transport.take() == HEAD_OF_200 + b"content-length: 0\r\n\r\n"


async def test_a_stream_with_a_length_is_sent_raw(connection: Connection) -> None:
    exchange = connection.exchange(request_head())
    connection.transport.take()

    exchange.start(200, [(b"Content-Length", b"5")])
    await exchange.write(b"ab")
    await exchange.write(b"cde")
    exchange.end()

    written = connection.transport.take()
    assert written == HEAD_OF_200 + b"Content-Length: 5\r\n\r\nabcde"
    assert exchange.complete


async def test_a_streamed_answer_to_head_has_neither_body_nor_chunking(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head("HEAD"))

    exchange.start(200, [TEXT])
    await exchange.write(b"body")
    exchange.end()

    written = connection.transport.take()
    assert b"transfer-encoding" not in written
    assert written.endswith(b"content-type: text/plain\r\n\r\n")


@pytest.mark.parametrize("status", [204, 304])
async def test_a_streamed_204_or_304_is_not_chunked(connection: Connection, status: int) -> None:
    exchange = connection.exchange(request_head())

    exchange.start(status, [])
    exchange.end()

    written = connection.transport.take()
    assert b"transfer-encoding" not in written
    assert written.endswith(b"\r\n\r\n")
    assert b"0\r\n\r\n" not in written


async def test_a_stream_to_an_http_1_0_client_is_not_chunked(connection: Connection) -> None:
    exchange = connection.exchange(request_head(version="1.0"))

    exchange.start(200, [])
    await exchange.write(b"abc")
    exchange.end()

    written = connection.transport.take()
    assert b"transfer-encoding" not in written
    assert written.endswith(b"\r\n\r\nabc")


@pytest.mark.parametrize(
    "head",
    [
        request_head(headers=[("Connection", "close")]),
        request_head(version="1.0"),
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_a_connection_not_kept_alive_says_close_and_is_closed(
    connection: Connection, head: bytes
) -> None:
    exchange = connection.exchange(head)

    exchange.respond(200, [], b"ok")

    assert b"\r\nconnection: close\r\n" in connection.transport.take()
    assert connection.transport.closed


async def test_a_streamed_answer_on_a_closing_connection_closes_it_at_the_end(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head(headers=[("Connection", "close")]))

    exchange.start(200, [])
    await exchange.write(b"abc")
    assert not connection.transport.closed
    exchange.end()

    assert connection.transport.take().endswith(b"3\r\nabc\r\n0\r\n\r\n")
    assert connection.transport.closed


async def test_a_pipelined_request_starts_once_the_answer_before_it_is_complete(
    connection: Connection,
) -> None:
    connection.send(request_head(target="/first") + request_head(target="/second"))
    first = connection.exchange()
    assert len(connection.protocol.started) == 1, "the second waits for the first's answer"

    first.respond(200, [], b"one")
    second = connection.exchange()
    second.respond(200, [], b"two")

    assert second.raw_path == b"/second"
    written = connection.transport.take()
    assert written.index(b"one") < written.index(b"two")
    assert not connection.transport.closed


async def test_receive_gives_the_body_then_none(connection: Connection) -> None:
    exchange = connection.exchange(body_request(6) + b"abcdef")

    assert await soon(exchange.receive()) == b"abcdef"
    assert await soon(exchange.receive()) is None


async def test_receive_waits_for_each_part_as_it_arrives(connection: Connection) -> None:
    exchange = connection.exchange(body_request(6))

    first = asyncio.create_task(exchange.receive())
    await settle()
    assert not first.done(), "nothing arrived yet"
    connection.send(b"abc")
    assert await soon(first) == b"abc"

    second = asyncio.create_task(exchange.receive())
    await settle()
    assert not second.done()
    connection.send(b"def")
    assert await soon(second) == b"def"
    assert await soon(exchange.receive()) is None


async def test_receive_decodes_a_chunked_body(connection: Connection) -> None:
    exchange = connection.exchange(
        request_head("POST", "/api", [("Transfer-Encoding", "chunked")])
        + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )

    parts = []
    while (part := await soon(exchange.receive())) is not None:
        parts.append(part)

    assert b"".join(parts) == b"abcde"


async def test_a_client_that_leaves_mid_body_is_client_gone(connection: Connection) -> None:
    exchange = connection.exchange(body_request(10) + b"abc")
    assert await soon(exchange.receive()) == b"abc"

    waiting = asyncio.create_task(exchange.receive())
    await settle()
    connection.drop()

    with pytest.raises(ClientGone):
        await soon(waiting)


async def test_a_receive_waiting_when_the_answer_completes_stops_waiting(
    connection: Connection,
) -> None:
    exchange = connection.exchange(body_request(10))
    waiting = asyncio.create_task(exchange.receive())
    await settle()

    exchange.respond(413, [], b"")
    try:
        await asyncio.wait([waiting], timeout=0.5)
        assert waiting.done(), "the body is no longer wanted once the answer is out"
    finally:
        waiting.cancel()


async def test_reading_a_body_resumes_a_connection_paused_for_it(
    connection: Connection,
) -> None:
    exchange = connection.exchange(body_request(6))
    connection.protocol.pause_reading()  # as the protocol does when a body piles up
    assert not connection.transport.reading

    waiting = asyncio.create_task(exchange.receive())
    await settle()

    assert connection.transport.reading, "a reader waiting for the body must let it in"
    connection.send(b"abcdef")
    assert await soon(waiting) == b"abcdef"


async def test_100_continue_is_written_at_the_first_receive_and_only_once(
    connection: Connection,
) -> None:
    exchange = connection.exchange(body_request(6, ("Expect", "100-continue")))
    assert connection.transport.take() == b"", "not before the edge wants the body"

    first = asyncio.create_task(exchange.receive())
    await settle()
    assert connection.transport.take() == CONTINUE
    connection.send(b"abc")
    assert await soon(first) == b"abc"

    second = asyncio.create_task(exchange.receive())
    await settle()
    connection.send(b"def")
    assert await soon(second) == b"def"
    assert connection.transport.take() == b""


async def test_an_answer_before_the_body_is_read_sends_no_100_continue(
    connection: Connection,
) -> None:
    exchange = connection.exchange(body_request(10_000_000, ("Expect", "100-continue")))

    exchange.respond(413, [], b"too large")

    written = connection.transport.take()
    assert written.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in written


async def test_a_slow_client_holds_the_writer_until_it_drains(connection: Connection) -> None:
    exchange = connection.exchange(request_head())
    exchange.start(200, [])
    connection.protocol.pause_writing()  # the transport's buffer is full

    writing = asyncio.create_task(exchange.write(b"abc"))
    await settle()
    assert not writing.done()
    assert connection.transport.take() == b""

    connection.protocol.resume_writing()
    await soon(writing)
    assert body_of(connection.transport.take()) == b"3\r\nabc\r\n"


async def test_abort_cuts_the_connection_without_ending_the_stream(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head())
    exchange.start(200, [])
    await exchange.write(b"abc")
    connection.transport.take()

    exchange.abort()

    assert connection.transport.closed
    assert not exchange.keep_alive
    assert connection.transport.take() == b"", "no terminating chunk: the answer must look cut"


async def test_nothing_is_written_to_a_client_that_left(connection: Connection) -> None:
    exchange = connection.exchange(request_head())
    connection.transport.take()
    connection.drop()

    # The transport refuses writes after close: any write here fails the test.
    exchange.respond(502, [], b"gone")
    exchange.start(200, [])
    await exchange.write(b"abc")
    exchange.end()

    assert connection.transport.take() == b""
    assert exchange.status == 200, "the status is still recorded for the access line"
