"""The edge's own paths (`/livez`, `/readyz`, `/metrics`, the dev timeline), served by
Litestar over ASGI from an `Exchange` the edge's protocol parsed.

A few requests a second at most, so this favours plainness over speed: one scope
per request, the body handed over as `http.request` messages, and the answer's
messages written through the exchange (held until its first body part, so a small
answer is one write). An app that fails before answering gets a 500 problem; one
that fails halfway has its connection cut, so the client cannot take half an
answer for a whole one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from edge.exchange import ClientGone, Exchange, problem_headers
from service_defaults.problems import render_problem
from service_defaults.request_context import request_id_from

log = logging.getLogger("frontdoor.edge")
Message = dict[str, Any]


async def serve_asgi(
    app: Any,
    exchange: Exchange,
    state: dict[str, Any],
    server: tuple[str, int] | None,
    failure_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Serve `exchange` with `app`; `failure_headers` go on the 500 when `app` fails
    before answering (the app's own answers carry its own)."""
    raw = exchange.raw_path.decode("ascii", "replace")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": exchange.http_version,
        "server": server,
        "client": (exchange.peer, 0),
        "scheme": "https",
        "method": exchange.method,
        "root_path": "",
        "path": unquote(raw) if "%" in raw else raw,
        "raw_path": exchange.raw_path,
        "query_string": exchange.query,
        "headers": exchange.headers,
        "state": state.copy(),
    }
    body_read = False

    async def receive() -> Message:
        nonlocal body_read
        if not body_read:
            try:
                part = await exchange.receive()
            except ClientGone:
                return {"type": "http.disconnect"}
            body_read = part is None
            return {"type": "http.request", "body": part or b"", "more_body": part is not None}
        # ASGI: after the body, `receive` waits for the client to leave (or the answer to end).
        await exchange.finished()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(bytes(name).lower(), bytes(value)) for name, value in message["headers"]]
            exchange.start(int(message["status"]), headers)
        elif message["type"] == "http.response.body":
            await exchange.write(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                exchange.end()

    try:
        await app(scope, receive, send)
    except Exception:
        log.exception("the edge's own endpoint failed on %s %r", exchange.method, raw)
        if exchange.started:
            exchange.abort()
        else:
            request_id = request_id_from(None)
            detail = "The gateway could not handle this request."
            body = render_problem(500, detail, request_id=request_id)
            exchange.respond(500, [*problem_headers(request_id), *failure_headers], body)
    finally:
        if not exchange.complete:
            exchange.abort()
