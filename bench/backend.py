"""The upstream under the edge: a raw ASGI callable, so the backend is never the bottleneck.

`python -m bench.backend PORT JWKS_FILE [CERT KEY]` serves the JWKS at
`/.well-known/jwks.json` and a fixed ~100-byte JSON body for every other GET; over TLS
when given a certificate and key. It also swallows OTLP trace exports (`POST /v1/traces`),
for the traced edge: a sink that reads and drops them, as cheap as a receiver can be.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn

BODY = (
    b'{"id":"bench-0001","name":"Frontdoor benchmark",'
    b'"items":[1,2,3,4,5],"price":12.5,"currency":"EUR","ok":true}'
)
Message = dict[str, Any]


def create_backend(jwks: bytes) -> Callable[..., Awaitable[None]]:
    async def app(
        scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Any]
    ) -> None:
        status, body = 200, jwks if scope["path"] == "/.well-known/jwks.json" else BODY
        if scope["path"] == "/v1/traces":
            while (await receive()).get("more_body"):
                pass
            body = b""  # an empty ExportTraceServiceResponse: all accepted
        elif scope["method"] != "GET":
            status, body = 405, b'{"detail":"GET only"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


if __name__ == "__main__":
    port, jwks = int(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    cert, key = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
    uvicorn.run(
        create_backend(jwks),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
