"""The few request header fields the edge reads, found in one pass over the head."""

from __future__ import annotations

Headers = list[tuple[bytes, bytes]]

# Every name some admission rule, the forwarding or the request id reads.
READ_BY_THE_EDGE = frozenset(
    {
        b"authorization",
        b"content-length",
        b"transfer-encoding",
        b"origin",
        b"access-control-request-method",
        b"access-control-request-headers",
        b"x-forwarded-for",
        b"x-request-id",
        b"host",
        b"connection",
        b"traceparent",
        b"tracestate",
        b"baggage",
    }
)


class RequestFields:
    """The head's size and field count, and the values of the names in `READ_BY_THE_EDGE`.

    One loop instead of one scan per rule: a dozen scans of twenty headers was a
    visible share of the edge's time per request. Names arrive lower-cased (the
    server folds them), so lookups are exact.
    """

    __slots__ = ("_found", "count", "size")

    def __init__(self, headers: Headers) -> None:
        found: dict[bytes, list[bytes]] = {}
        size = 0
        for name, value in headers:
            size += len(name) + len(value) + 4  # ": " and CRLF, as on the wire
            if name in READ_BY_THE_EDGE:
                if name in found:
                    found[name].append(value)
                else:
                    found[name] = [value]
        self._found = found
        self.count = len(headers)
        self.size = size

    def first(self, name: bytes) -> bytes | None:
        values = self._found.get(name)
        return values[0] if values else None

    def every(self, name: bytes) -> list[bytes]:
        return self._found.get(name, [])
