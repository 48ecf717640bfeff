"""Rule: a request head with too many fields, or too many bytes, is a 431."""

from __future__ import annotations

from edge.refusal import Refused
from edge.request_fields import RequestFields


def check_head(fields: RequestFields, *, max_fields: int, max_bytes: int) -> None:
    # A field count bound as well as a byte bound: two hundred tiny headers are
    # cheap to send and cost the edge (and every hop behind it) per field.
    if fields.count > max_fields:
        raise Refused(431, "The request has too many header fields.")
    if fields.size > max_bytes:
        raise Refused(431, "The request headers are too large.")
