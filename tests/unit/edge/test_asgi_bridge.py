"""`serve_asgi`: the edge's own paths answered by an ASGI app from a parsed `Exchange`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from edge.asgi_bridge import serve_asgi
from tests.unit.edge.conftest import Connection, request_head, soon

Message = dict[str, Any]


class App:
    """Answers with what the test says, keeping the scope and the messages it received."""

    def __init__(self, *answer: Message, reads: int = 0, fails: bool = False) -> None:
        self.answer = answer
        self.reads = reads
        self.fails = fails
        self.scope: dict[str, Any] = {}
        self.received: list[Message] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        for _ in range(self.reads):
            self.received.append(await receive())
        for message in self.answer:
            await send(message)
        if self.fails:
            raise RuntimeError("the endpoint broke")


START = {"type": "http.response.start", "status": 200, "headers": [(b"Content-Length", b"2")]}
BODY = {"type": "http.response.body", "body": b"ok"}


async def test_the_scope_holds_the_request_as_parsed(connection: Connection) -> None:
    exchange = connection.exchange(request_head("GET", "/_dev/requests/a%20b?format=json"))
    app = App(START, BODY)

    await soon(serve_asgi(app, exchange, {"k": "v"}, ("127.0.0.1", 8443)))

    scope = app.scope
    assert (scope["type"], scope["method"], scope["scheme"]) == ("http", "GET", "https")
    assert scope["path"] == "/_dev/requests/a b", "decoded, as ASGI wants it"
    assert scope["raw_path"] == b"/_dev/requests/a%20b"
    assert scope["query_string"] == b"format=json"
    assert (b"host", b"edge.test") in scope["headers"]
    assert scope["server"] == ("127.0.0.1", 8443)
    assert scope["state"] == {"k": "v"}


async def test_the_answer_goes_out_in_one_write_with_the_apps_length(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head("GET", "/metrics"))
    connection.transport.take()

    await soon(serve_asgi(App(START, BODY), exchange, {}, None))

    written = connection.transport.take()
    assert written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert written.count(b"content-length") == 1
    assert b"transfer-encoding" not in written
    assert written.endswith(b"\r\n\r\nok")
    assert exchange.complete


async def test_the_body_arrives_as_request_messages_then_a_disconnect_once_answered(
    connection: Connection,
) -> None:
    exchange = connection.exchange(
        request_head("POST", "/metrics", [("content-length", "5")]) + b"hello"
    )
    app = App(START, BODY, reads=2)

    await soon(serve_asgi(app, exchange, {}, None))

    assert app.received == [
        {"type": "http.request", "body": b"hello", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
    ]
    after = asyncio.create_task(_receive_after_answer(connection))
    assert await soon(after) == {"type": "http.disconnect"}


async def _receive_after_answer(connection: Connection) -> Message:
    """What an app's `receive` gives once the body is read and the answer is out."""
    exchange = connection.exchange(request_head("GET", "/livez"))
    got: list[Message] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.append(await receive())  # the (empty) body
        await send(START)
        await send(BODY)
        got.append(await receive())

    await serve_asgi(app, exchange, {}, None)
    return got[-1]


async def test_an_app_that_fails_before_answering_is_a_500_problem(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head("GET", "/readyz"))
    connection.transport.take()

    hsts = (b"strict-transport-security", b"max-age=31536000")

    await soon(serve_asgi(App(fails=True), exchange, {}, None, [hsts]))

    head, _, body = connection.transport.take().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 ")
    assert b"application/problem+json" in head
    assert b"strict-transport-security: max-age=31536000" in head, "the edge's own headers"
    problem = json.loads(body)
    assert problem["status"] == 500
    assert f"x-request-id: {problem['request_id']}".encode() in head


async def test_an_app_that_fails_halfway_has_its_connection_cut(connection: Connection) -> None:
    exchange = connection.exchange(request_head("GET", "/metrics"))
    partial = {"type": "http.response.body", "body": b"o", "more_body": True}
    no_length = {"type": "http.response.start", "status": 200, "headers": []}

    await soon(serve_asgi(App(no_length, partial, fails=True), exchange, {}, None))

    assert connection.transport.closed
    assert not exchange.complete, "a cut answer must not look whole"
