"""The edge's HTTP/1.1 protocol: uvicorn's httptools protocol, with proxied requests
answered by the proxy directly and a bound on a request's head before it is parsed whole.

uvicorn parses every request, answers a malformed one with a 400, keeps connections
alive and queues pipelined requests. A request for the edge's own endpoints (`/livez`,
`/readyz`, `/metrics`, the dev timeline) then goes to Litestar over ASGI as usual;
every other request goes to `Proxy.handle` as an `Exchange`, with no ASGI messages,
middleware or scope copies in between. That path was measured at about half the
edge's time per request, for work the proxy does itself (see docs/performance.md).

httptools sets no limit of its own on header size: without one, a client could make
the edge hold megabytes of headers per connection. The admission rule
(`EDGE_MAX_HEADER_BYTES`, a 431 problem) runs once the head is parsed; this one stops
a head that keeps growing past `HEAD_LIMIT` and closes the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from edge.exchange import Exchange
from service_defaults.problems import PROBLEM_JSON, render_problem

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

    from edge.proxy import Proxy

HEAD_LIMIT = 64 * 1024


class ProxiedRequests:
    """Where the protocol sends proxied requests: the proxy, while the app's lifespan has it open.

    Until then, and for the paths Litestar owns, requests go to the ASGI app.
    """

    def __init__(self) -> None:
        self._proxy: Proxy | None = None
        self._is_own_path: Callable[[str], bool] = lambda _: True

    def open(self, proxy: Proxy, is_own_path: Callable[[str], bool]) -> None:
        self._proxy, self._is_own_path = proxy, is_own_path

    def close(self) -> None:
        self._proxy = None

    def proxy_for(self, path: str) -> Proxy | None:
        return None if self._is_own_path(path) else self._proxy


class EdgeProtocol(HttpToolsProtocol):
    # Set on the subclass `edge_protocol` makes: one per app.
    proxied: ClassVar[ProxiedRequests]
    _in_head = True
    _head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still inside the head after this chunk: every byte of it was head.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT:
                self._refuse_head()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        # `app` is another one when uvicorn refuses the request itself (its
        # concurrency limit): that answer stays uvicorn's.
        proxy = self.proxied.proxy_for(cycle.scope["path"])
        if proxy is None or app is not self.app:
            super()._start_asgi_task(cycle, app)
            return
        exchange = Exchange(cycle, self.server_state.default_headers)
        task = self.loop.create_task(_answer(proxy, exchange, cycle))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _refuse_head(self) -> None:
        body = render_problem(431, "The request headers are too large.")
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            f"content-type: {PROBLEM_JSON}\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)
        self.transport.close()


async def _answer(proxy: Proxy, exchange: Exchange, cycle: RequestResponseCycle) -> None:
    try:
        await proxy.handle(exchange)
    finally:
        if not cycle.response_complete:
            # The client left, or half an answer went out: this connection is done.
            cycle.transport.close()
        cycle.on_response = lambda: None


def edge_protocol(proxied: ProxiedRequests) -> type[asyncio.Protocol]:
    """The protocol class uvicorn instantiates per connection, bound to this app's proxy."""
    return type("EdgeProtocol", (EdgeProtocol,), {"proxied": proxied})
