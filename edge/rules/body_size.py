"""Rule: a body over the route's limit is a 413, declared or found while reading.

A declared length over the limit is refused before a byte of the body is read. A
small or chunked body is read whole, so one over the limit is refused before the
upstream hears of it; a large declared one streams through unheld.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from edge.exchange import Exchange
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route

# Bodies up to this size are read whole and sent with their length.
SMALL_BODY = 64 * 1024

Body = bytes | AsyncIterator[bytes] | None


def declared_length(route: Route, fields: RequestFields) -> int | None:
    """The request's Content-Length (the server has refused a malformed one)."""
    declared = fields.first(b"content-length")
    if declared is None:
        return None
    length = int(declared)
    if length > route.max_body_bytes:
        raise Refused(413, "The request body is too large.")
    return length


async def request_body(exchange: Exchange, route: Route, fields: RequestFields) -> Body:
    length = declared_length(route, fields)
    if length is None and fields.first(b"transfer-encoding") is None:
        return None
    if length is not None and length > SMALL_BODY:
        return _stream(exchange)
    chunks: list[bytes] = []
    size = 0
    while (chunk := await exchange.receive()) is not None:
        size += len(chunk)
        if size > route.max_body_bytes:
            raise Refused(413, "The request body is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _stream(exchange: Exchange) -> AsyncIterator[bytes]:
    while (chunk := await exchange.receive()) is not None:
        yield chunk
