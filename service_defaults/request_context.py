"""The request id: accepted or minted per request, echoed, logged, and forwarded downstream.

The same middleware records each request once: its access line and its RED metrics.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from typing import Protocol

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service_defaults.metrics import HttpMetrics

REQUEST_ID_HEADER = "x-request-id"
# A client-sent id is kept only when it is short and plain, so it cannot smuggle
# newlines into logs or grow headers without bound.
WELL_FORMED_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

_request_id: ContextVar[str] = ContextVar("request_id", default="")
access_log = logging.getLogger("frontdoor.access")


class Access(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """The one line logged per request, as the message object of its log record.

    Formatters read its fields; any other handler prints it as `GET /path 200`.
    A struct, not a dict in `extra=`: built once per request on the edge's hot path,
    and encoded as it is into the JSON line (no `client` there when it is None).
    """

    method: str
    route: str
    path: str
    status: int
    duration_ms: float
    start: float
    client: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


def current_request_id() -> str:
    """The id of the request being handled, or an empty string outside one."""
    return _request_id.get()


def set_request_id(request_id: str) -> Token[str]:
    """Makes `request_id` the current one (for log lines and outbound calls) until reset."""
    return _request_id.set(request_id)


def reset_request_id(token: Token[str]) -> None:
    _request_id.reset(token)


class _AccessLineWriter(Protocol):
    def write_access(self, access: Access, logger: str) -> bool: ...


# The process's one handler, when it can write access lines itself (`serve` sets it).
_straight_to: logging.Handler | None = None


def write_access_lines_to(handler: logging.Handler | None) -> None:
    """Let `log_access` hand lines to `handler` directly while it is the only one."""
    global _straight_to  # the one handler of the process, set once at start
    _straight_to = handler


def log_access(access: Access) -> None:
    """The one way an access line is written: through logging, or straight to the
    process's one handler when logging would reach no other (same line, less work)."""
    handler = _straight_to
    if handler is not None and _only(handler) and access_log.isEnabledFor(logging.INFO):
        writer: _AccessLineWriter = handler  # type: ignore[assignment]  # set by serve
        if writer.write_access(access, access_log.name):
            return
    access_log.info(access)


def _only(handler: logging.Handler) -> bool:
    # Anything a test or an operator adds (a handler, a filter, a level) takes the
    # records back through logging.
    root = logging.root
    return (
        not access_log.handlers
        and not access_log.filters
        and access_log.propagate
        and len(root.handlers) == 1
        and root.handlers[0] is handler
        and not root.filters
        and not handler.filters
        and handler.level <= logging.INFO
    )


def accept_or_mint_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    sent = next((value for name, value in headers if name.lower() == b"x-request-id"), None)
    return request_id_from(sent)


class _MintedIds:
    """New request ids: 128 random bits each (as a uuid4 has), from the OS's source,
    read for 256 ids at a time. A `getrandom` call per id cost about 3 µs, a visible
    share of a proxied request at the edge."""

    _BATCH = 256

    def __init__(self) -> None:
        self._ids: list[str] = []
        # A forked child must not hand out the ids its parent still holds.
        os.register_at_fork(after_in_child=self._ids.clear)

    def next(self) -> str:
        try:
            return self._ids.pop()  # atomic: threads never share an id
        except IndexError:
            text = os.urandom(16 * self._BATCH).hex()
            self._ids.extend(text[i : i + 32] for i in range(32, len(text), 32))
            return text[:32]


_minted = _MintedIds()


def request_id_from(sent: bytes | None) -> str:
    """The client's `X-Request-Id` when well formed, else a new one."""
    if sent is not None and WELL_FORMED_ID.fullmatch(sent):
        return sent.decode("ascii")
    return _minted.next()


def route_label(scope: Scope) -> str:
    """The route a request took, for metrics and logs: a name or template, never a raw path.

    Read after the app ran: Litestar's path template (set by its router on this
    same scope), else "unmatched".
    """
    values: Mapping[str, object] = scope
    label = values.get("path_template")
    return label if isinstance(label, str) and label else "unmatched"


class RequestContextMiddleware:
    """Pure ASGI middleware: sets the request id, echoes it, records the request once.

    The access line carries the start time and duration so that timings from
    different processes can be lined up by request id.
    """

    def __init__(
        self,
        app: ASGIApp,
        response_headers: Sequence[tuple[bytes, bytes]] = (),
        *,
        metrics: HttpMetrics | None = None,
    ) -> None:
        self.app = app
        # Added to every response (the edge's HSTS), here rather than in one more
        # wrapper around `send`: each wrapper costs on every message.
        self._extra = list(response_headers)
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = accept_or_mint_request_id(list(scope["headers"]))
        token = set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.time()
        clock = time.perf_counter()
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                headers += self._extra
                message = {**message, "headers": headers}
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            failed = True
            raise
        finally:
            duration_s = time.perf_counter() - clock
            if not status:
                # No answer went out: the app failed (the server answers 500), or
                # the client left first (499, nginx's name for it).
                status = 500 if failed else 499
            self._record(scope, status, started, duration_s)
            reset_request_id(token)

    def _record(self, scope: Scope, status: int, started: float, duration_s: float) -> None:
        method: str = scope["method"]  # type: ignore[typeddict-item]  # an HTTP scope
        route = route_label(scope)
        if self._metrics is not None:
            self._metrics.record(route, method, status, duration_s)
        if access_log.isEnabledFor(logging.INFO):
            # As sent, still percent-encoded: the decoded path could hold a newline.
            # Never the query, which some servers leave in `raw_path`: it may hold a secret.
            raw_path = scope.get("raw_path")
            path = (
                raw_path.partition(b"?")[0].decode("ascii", "backslashreplace") if raw_path else "?"
            )
            access = Access(
                method=method,
                route=route,
                path=path,
                status=status,
                # Microseconds are plenty, and keep the line short.
                duration_ms=int(duration_s * 1_000_000) / 1000,
                start=started,
            )
            log_access(access)
