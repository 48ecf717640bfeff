"""Which headers cross the edge, in each direction."""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[bytes, bytes]]

# RFC 9110 section 7.6.1: these describe one connection, not the message, and
# must not be forwarded. `Connection` may name more of them.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set by the edge from what it saw itself; a client's values would be lies.
SET_BY_EDGE = frozenset(
    {
        b"host",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"forwarded",
        b"x-request-id",
        b"content-length",
    }
)
# The upstream's values would duplicate the ones the edge's server writes.
SET_BY_SERVER = frozenset({b"date", b"server", b"x-request-id"})


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }


def _without(headers: Headers, drop: frozenset[bytes]) -> Headers:
    listed = _connection_tokens(headers)
    return [
        (name, value)
        for name, value in headers
        if (lowered := name.lower()) not in HOP_BY_HOP
        and lowered not in drop
        and lowered not in listed
    ]


def request_headers(inbound: Headers, *, client_ip: str, host: bytes, request_id: str) -> Headers:
    headers = _without(inbound, SET_BY_EDGE)
    headers += [
        (b"x-forwarded-for", client_ip.encode("ascii")),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", host),
        (b"x-request-id", request_id.encode("ascii")),
    ]
    return headers


def response_headers(upstream: Iterable[tuple[bytes, bytes]]) -> Headers:
    return _without(list(upstream), SET_BY_SERVER)
