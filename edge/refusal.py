"""`Refused`: a request the edge answers itself, with a problem, before any upstream call."""

from __future__ import annotations

Headers = list[tuple[bytes, bytes]]


class Refused(Exception):
    """Raised by an admission rule; the proxy turns it into an RFC 9457 problem answer."""

    def __init__(self, status: int, detail: str, headers: Headers | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or []
