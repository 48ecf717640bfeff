"""uvicorn's httptools protocol with a bound on a request's head, before it is parsed whole.

httptools sets no limit of its own on header size: without one, a client could
make the edge hold megabytes of headers per connection. The proxy's own check
(`EDGE_MAX_HEADER_BYTES`, a 431 problem) runs once the head is parsed; this one
stops a head that keeps growing past `HEAD_LIMIT` and closes the connection.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service_defaults.problems import PROBLEM_JSON, render_problem

HEAD_LIMIT = 64 * 1024


class BoundedHeadProtocol(HttpToolsProtocol):
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
                self._refuse()

    def _refuse(self) -> None:
        body = render_problem(431, "The request headers are too large.")
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            f"content-type: {PROBLEM_JSON}\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)
        self.transport.close()
