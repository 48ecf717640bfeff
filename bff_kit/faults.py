"""Dev-only fault injection: make one upstream slow or failing for a single request.

`X-Fault: orders=down` (connection refused), `orders=slow:1500` (1.5 s delay),
`users=status:503` (answers 503). Several are comma-separated. The middleware is
installed only in dev mode; in production the header means nothing. Injected
failures sit at the bottom of the transport chain, so they go through retries
and the circuit breaker exactly like real ones: a workshop can watch a section
degrade and the breaker open.
"""

from __future__ import annotations

import asyncio
import re
from contextvars import ContextVar

import httpx
from litestar.types import ASGIApp, Receive, Scope, Send

FAULT_HEADER = b"x-fault"
_FAULT = re.compile(r"^\s*([a-z_]+)\s*=\s*(down|slow:\d{1,5}|status:[45]\d\d)\s*$")
_faults: ContextVar[dict[str, str]] = ContextVar("faults", default={})  # noqa: B039 - never mutated


def active_fault(upstream: str) -> str | None:
    """The fault requested for `upstream` in this request: "down", "slow:N" or "status:N"."""
    return _faults.get().get(upstream)


def parse_faults(value: str) -> dict[str, str]:
    faults = {}
    for part in value.split(","):
        match = _FAULT.match(part)
        if match:
            faults[match[1]] = match[2]
    return faults


class FaultInjectionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = next((v for k, v in scope.get("headers", []) if k.lower() == FAULT_HEADER), None)
        if header is None:
            await self.app(scope, receive, send)
            return
        token = _faults.set(parse_faults(header.decode("latin-1")))
        try:
            await self.app(scope, receive, send)
        finally:
            _faults.reset(token)


class FaultTransport(httpx.AsyncBaseTransport):
    """Acts out the request's fault for this upstream, just above the network."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, name: str) -> None:
        self._inner = inner
        self._name = name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = active_fault(self._name)
        if fault == "down":
            raise httpx.ConnectError("fault injected: down", request=request)
        if fault and fault.startswith("status:"):
            return httpx.Response(int(fault.split(":")[1]), request=request)
        if fault and fault.startswith("slow:"):
            await asyncio.sleep(int(fault.split(":")[1]) / 1000)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
