"""The time a request may still take, handed down from the edge and shared by every call."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from litestar import Request

# Written by the edge: how many milliseconds it will wait for this request.
BUDGET_HEADER = "x-request-budget-ms"


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], default_s: float) -> Deadline:
        """The edge's budget when it sent one, never more than our own default."""
        value = headers.get(BUDGET_HEADER, "")
        budget_s = int(value) / 1000 if value.isascii() and value.isdigit() else default_s
        return cls(min(budget_s, default_s))

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def provide_deadline(request: Request[Any, Any, Any]) -> Deadline:
    """The request's deadline: the edge's budget, capped by the app's `request_budget_s`."""
    return Deadline.from_headers(request.headers, request.app.state.request_budget_s)
