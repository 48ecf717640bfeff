"""A recording upstream for edge tests: echoes requests, counts calls, serves a JWKS.

Run as `python -m tests.integration.echo_backend` with ECHO_PORT and ECHO_JWKS_FILE
set. Every request answers JSON describing exactly what arrived (method, raw path,
query, headers, body size). `/_calls` counts the requests that reached it,
`/slow?ms=N` waits, `/big?kb=N` streams a large body, `/lagging-body?ms=N` sends a
small one N ms after its head, `/short-body` fewer bytes than its length,
`/jwks.json` serves the JWKS file as it is now, and `/_jwks_fetches` counts how
often it was fetched.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn

Scope = dict[str, Any]
calls = 0
jwks_fetches = 0


async def app(scope: Scope, receive: Any, send: Any) -> None:
    global calls, jwks_fetches
    if scope["type"] == "lifespan":
        while True:
            event = (await receive())["type"]
            await send({"type": f"{event}.complete"})  # lifespan.startup / .shutdown
            if event == "lifespan.shutdown":
                return
    path: str = scope["path"]
    query = parse_qs(scope["query_string"].decode())
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if path in ("/_calls", "/readyz"):
        return await respond(send, 200, {"calls": calls})
    if path == "/_jwks_fetches":
        return await respond(send, 200, {"fetches": jwks_fetches})
    if path == "/jwks.json":
        jwks_fetches += 1
        # Read on every request: the tests rotate keys by rewriting the file.
        jwks = await asyncio.to_thread(Path(os.environ["ECHO_JWKS_FILE"]).read_text)
        return await respond(send, 200, json.loads(jwks))
    calls += 1
    if path.endswith("/slow"):
        await asyncio.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
    if path.endswith("/late-body"):
        # The head at once, the body only after `ms`: a long poll, an event stream.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(int(query.get("ms", ["3000"])[0]) / 1000)
        await send({"type": "http.response.body", "body": b"late"})
        return
    if path.endswith("/lagging-body"):
        # A small body with its length, sent `ms` after its head.
        head = [(b"content-length", b"4")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await asyncio.sleep(int(query.get("ms", ["300"])[0]) / 1000)
        await send({"type": "http.response.body", "body": b"late"})
        return
    if path.endswith("/short-body"):
        # Fewer bytes than the length promised: uvicorn then closes the connection.
        head = [(b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b"only part", "more_body": True})
        await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b""})
        return
    if path.endswith("/big"):
        kb = int(query.get("kb", ["1024"])[0])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(kb):
            await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await respond(
        send,
        200,
        {
            "method": scope["method"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body_bytes": len(body),
        },
        extra=[(b"connection", b"keep-alive, x-hop"), (b"x-hop", b"1"), (b"keep-alive", b"5")],
    )


async def respond(
    send: Any, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["ECHO_PORT"]), log_level="warning")
