"""`Forwarder`: accepted exports passed on, unchanged and in the background, to another receiver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import httpx

log = logging.getLogger("frontdoor.trace_store")
FORWARD_TIMEOUT = httpx.Timeout(5.0, connect=1.0)
# Exports waiting to be forwarded; past this the receiver drops the newest rather than grow.
MAX_PENDING = 256


class WarningThrottle:
    """At most one warning a minute, saying how many were held back since the last."""

    def __init__(self, interval_s: float = 60.0) -> None:
        self._interval_s = interval_s
        self._last = -interval_s
        self.suppressed = 0

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self._interval_s:
            self.suppressed += 1
            return
        if self.suppressed:
            message += f" ({self.suppressed} more since the last warning)"
        log.warning(message, *args)
        self._last = now
        self.suppressed = 0


class Forwarder:
    """A queue and one task draining it: `submit` never waits, and a receiver that is
    down or slow costs the store nothing but the warnings it logs."""

    def __init__(
        self, url: str, http: httpx.AsyncClient, headers: Mapping[str, str] | None = None
    ) -> None:
        self.url = url
        self._http = http
        self._headers = dict(headers or {})
        self._pending: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue(MAX_PENDING)
        self._failures = WarningThrottle()
        self.forwarded = 0
        self.failed = 0

    def submit(self, body: bytes, content_type: str, content_encoding: str | None) -> None:
        headers = {**self._headers, "content-type": content_type}
        if content_encoding:
            headers["content-encoding"] = content_encoding
        try:
            self._pending.put_nowait((body, headers))
        except asyncio.QueueFull:
            self.failed += 1
            self._failures.warn(
                "not forwarding to %s: %d exports already waiting", self.url, MAX_PENDING
            )

    async def run(self) -> None:
        while True:
            body, headers = await self._pending.get()
            try:
                await self._forward(body, headers)
            finally:
                self._pending.task_done()

    async def _forward(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            answer = await self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.failed += 1
            self._failures.warn("could not forward spans to %s: %r", self.url, exc)
            return
        if answer.is_success:
            self.forwarded += 1
        else:
            self.failed += 1
            self._failures.warn("%s refused forwarded spans with %d", self.url, answer.status_code)

    async def drain(self, timeout_s: float = 2.0) -> None:
        """Give what is queued a moment to go out, at shutdown."""
        try:
            await asyncio.wait_for(self._pending.join(), timeout_s)
        except TimeoutError:
            log.warning("stopped with %d exports not forwarded", self._pending.qsize())


def create_forward_client() -> httpx.AsyncClient:
    # The proxy and CA settings of the environment apply, as they would have to the
    # processes' own exporters had they sent their spans to this receiver directly.
    return httpx.AsyncClient(timeout=FORWARD_TIMEOUT, follow_redirects=False)
