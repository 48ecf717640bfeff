"""Which headers cross the edge, in each direction, and the ones the edge writes itself."""

from __future__ import annotations

from collections.abc import Iterable

from edge.request_fields import RequestFields

Headers = list[tuple[bytes, bytes]]

# RFC 9110 section 7.6.1: these describe one connection, not the message, and
# are never forwarded. `Connection` may name more of them.
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
# Written by the edge from what it saw itself; a client's values would be lies.
SET_BY_EDGE = frozenset(
    {
        b"host",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-real-ip",
        b"forwarded",
        b"x-request-id",
        b"x-request-budget-ms",
        b"content-length",
        # The trace context the edge continues or starts; its client span sends it.
        b"traceparent",
        b"tracestate",
        b"baggage",
    }
)
# The upstream's values would duplicate the ones the edge's own server writes.
SET_BY_SERVER = frozenset({b"date", b"server", b"x-request-id", b"strict-transport-security"})
# Searched for as an int: CPython (3.11) first tries a bytes needle such as b"_" as
# an integer, raising and clearing a TypeError on every test, several times slower.
_UNDERSCORE = ord("_")


class HeaderPolicy:
    """Strips hop-by-hop and identity headers, and writes the forwarding headers."""

    def __init__(self, stripped: Iterable[str]) -> None:
        names = [name.strip().lower() for name in stripped]
        exact = frozenset(n.encode() for n in names if not n.endswith("*"))
        # One set lookup per header instead of three.
        self._dropped = HOP_BY_HOP | SET_BY_EDGE | exact
        self._prefixes = tuple(n[:-1].encode() for n in names if n.endswith("*"))

    def outbound(
        self,
        inbound: Headers,
        fields: RequestFields,
        *,
        forwarded_for: str,
        request_id: str,
        budget_ms: int,
        content_length: int | None,
    ) -> Headers:
        """The request's headers as the upstream gets them.

        Everything in `SET_BY_EDGE` is written here and only here, from what the
        edge saw itself; no configuration can let a client's value through.
        """
        dropped = self._dropped
        if listed := fields.every(b"connection"):
            dropped = dropped | {
                token.strip().lower() for value in listed for token in value.split(b",")
            }
        prefixes = self._prefixes
        # An underscore drops the header, as nginx does by default: `X_User_Id` is
        # `X-User-Id` to a CGI- or WSGI-style backend, and would slip past every name
        # on the list.
        headers = [
            (name, value)
            for name, value in inbound
            if (lowered := name.lower()) not in dropped
            and _UNDERSCORE not in lowered
            and not lowered.startswith(prefixes)
        ]
        headers += [
            (b"x-forwarded-for", forwarded_for.encode("latin-1")),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-host", fields.first(b"host") or b""),
            (b"x-request-id", request_id.encode("ascii")),
            (b"x-request-budget-ms", b"%d" % budget_ms),
        ]
        if content_length is not None:
            headers.append((b"content-length", b"%d" % content_length))
        return headers


def response_headers(upstream: Iterable[tuple[bytes, bytes]]) -> tuple[Headers, int | None]:
    """The upstream's answer headers the client gets, and the body's length when they give it."""
    kept: Headers = []
    listed: set[bytes] = set()
    length: bytes | None = None
    for name, value in upstream:
        lowered = name.lower()
        if lowered == b"connection":
            listed.update(token.strip().lower() for token in value.split(b","))
        elif lowered not in HOP_BY_HOP and lowered not in SET_BY_SERVER:
            kept.append((name, value))
            if lowered == b"content-length":
                length = value
    if listed:
        # Rare: `Connection` names more hop-by-hop headers, which may come before it.
        kept = [(name, value) for name, value in kept if name.lower() not in listed]
        if b"content-length" in listed:
            length = None
    # The upstream's parser accepted the answer, so a length is digits (and one value).
    return kept, None if length is None else int(length)
