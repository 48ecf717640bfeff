"""The one log handler of every process: lines written to the stream in batches, in order."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from service_defaults.request_context import Access

FLUSH_INTERVAL_S = 0.25
MAX_PENDING_CHARS = 64 * 1024


class AccessLineFormatter(Protocol):
    def access_line(self, access: Access, logger: str, created: float) -> str | None: ...


class BatchingStreamHandler(logging.Handler):
    """Formats each record when it is logged, writes the lines in batches.

    A batch goes out every `interval_s`, once `max_pending` characters wait, and
    at once for a record at `flush_level` or above, after the lines before it: a
    crash's line never waits. Closing it (`logging.shutdown`, run at exit) writes
    what is left, so a clean stop loses no line; a kill loses at most `interval_s`
    of lines below `flush_level`.

    Every record goes through this one list, whatever its level or thread, so lines
    come out in the order they were logged. A write and a flush per line cost the
    access log more than building the line did.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        max_pending: int = MAX_PENDING_CHARS,
        flush_level: int = logging.WARNING,
    ) -> None:
        super().__init__()
        self.stream = stream
        self._pending: list[str] = []
        self._pending_chars = 0
        self._max_pending = max_pending
        self._flush_level = flush_level
        self._stop = threading.Event()
        # A thread asleep between batches rather than the event loop's timer: lines
        # are logged before the loop runs, after it stops, and from other threads.
        threading.Thread(
            target=self._flush_every, args=(interval_s,), name="log-batches", daemon=True
        ).start()

    def emit(self, record: logging.LogRecord) -> None:
        # Called with this handler's lock held (`Handler.handle`).
        try:
            line = self.format(record)
            self._pending.append(line)
            self._pending_chars += len(line)
            if record.levelno >= self._flush_level or self._pending_chars >= self._max_pending:
                self._write_pending()
        except Exception:
            self.handleError(record)

    def write_access(self, access: Access, logger: str) -> bool:
        """Add an access line without a LogRecord; False when the formatter cannot.

        The edge writes one line per request: a record, the logger's walk to the
        root and the handler's dispatch cost more than the line itself. Only used
        while this handler alone would have handled the record
        (`service_defaults.request_context.log_access` checks).
        """
        formatter: AccessLineFormatter | None = getattr(self.formatter, "access_line", None) and (
            self.formatter  # type: ignore[assignment]  # it has `access_line`
        )
        if formatter is None:
            return False
        line = formatter.access_line(access, logger, time.time())
        if line is None:
            return False
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._pending.append(line)
            self._pending_chars += len(line)
            if self._pending_chars >= self._max_pending:
                self._write_pending()
        return True

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    def close(self) -> None:
        # Not joined: `logging.shutdown` closes with the lock held, which the thread may wait for.
        self._stop.set()
        self.flush()
        super().close()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        # Taken off before writing: a stream that fails does not grow the list forever.
        self._pending = []
        self._pending_chars = 0
        self.stream.write(text)
        self.stream.flush()

    def _flush_every(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.flush()
            except Exception:
                # Reported as logging reports a failed write, naming no record of its own.
                self.handleError(logging.makeLogRecord({"msg": "a batch of log lines"}))
