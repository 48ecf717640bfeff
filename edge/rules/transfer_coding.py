"""Rule: a transfer coding other than chunked is a 501."""

from __future__ import annotations

from edge.refusal import Refused
from edge.request_fields import RequestFields


def check_transfer_coding(fields: RequestFields) -> None:
    coding = fields.first(b"transfer-encoding")
    if coding is not None and coding.strip().lower() != b"chunked":
        # RFC 9112 section 6.1: a coding the edge cannot decode is a 501, not a body
        # it would pass on under a Content-Length that no longer fits.
        raise Refused(501, "Only the chunked transfer coding is supported.")
