"""Log lines: one JSON object each (or a plain line for people), with the request's ids."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from opentelemetry import trace

from service_defaults.request_context import Access, current_request_id
from service_defaults.settings import ConfigError

LOG_FORMAT_VARIABLE = "FRONTDOOR_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A bearer token, the credential after "authorization" (whatever its scheme), a
# password, every cookie of a Cookie header, a JWT: blanked out if a message ever
# carries one. The cheap substring test runs on every line, the regex only on the
# rare line it flags.
_SECRET = re.compile(
    r"(?i)(bearer\s+|authorization\W{1,4}(?:[\w-]+\s+)?|password\W{1,4})[^\s'\",;&]+"
    r"|(cookie\W{1,4})[^\r\n'\"]+"
    r"|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"
)
# Valid in JSON, but `str.splitlines` breaks lines on them: a reader splitting the
# output that way would see a line the client wrote.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]


def redact(text: str) -> str:
    # Unrolled: a generator over the hints costs three times as much per line.
    if not (
        "earer" in text
        or "EARER" in text
        or "uthorization" in text
        or "UTHORIZATION" in text
        or "ookie" in text
        or "OOKIE" in text
        or "assword" in text
        or "ASSWORD" in text
        or "eyJ" in text
    ):
        return text
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or "") + "[redacted]", text)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not turn into logging's own traceback
        return f"{record.msg} (arguments that did not fit: {record.args!r})"


class JsonFormatter(logging.Formatter):
    """`time level service logger message`, the request's ids when known, the access
    fields on the access line, and a traceback as one `exception` string."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service
        self._encode = msgspec.json.Encoder().encode
        # strftime costs more than the rest of the line: once a second is enough.
        self._second = -1
        self._second_text = ""
        # An access line's `","level":…,"service":…,"logger":…,"message":`, per level and logger.
        self._access_heads: dict[tuple[str, str], bytes] = {}

    def _time(self, record: logging.LogRecord) -> str:
        return self._time_of(record.created)

    def _time_of(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        # As `LogRecord.msecs` is computed, so both ways write the same time.
        return self._second_text + _MILLIS[int((created - second) * 1000)]

    def format(self, record: logging.LogRecord) -> str:
        access = record.msg if type(record.msg) is Access else None
        # The short way cannot redact, nor add a traceback; the path is the one
        # field of an access line that a client wrote, and it rarely holds a secret.
        plain = not (record.exc_info or record.stack_info)
        if access is not None and plain and redact(access.path) is access.path:
            try:
                return self._access_line(record, access)
            except UnicodeEncodeError:
                pass  # a lone surrogate (in a route's name): the long way escapes it
        return self._line(record, access)

    def access_line(self, access: Access, logger: str, created: float) -> str | None:
        """The INFO line of `access` logged by `logger` at `created`, without a LogRecord
        (see `BatchingStreamHandler.write_access`); None when only `format` can write it."""
        if redact(access.path) is not access.path:
            return None
        try:
            return self._access_text("INFO", logger, created, access)
        except UnicodeEncodeError:
            return None

    def _access_line(self, record: logging.LogRecord, access: Access) -> str:
        return self._access_text(record.levelname, record.name, record.created, access)

    def _access_text(self, level: str, logger: str, created: float, access: Access) -> str:
        """The line `_line` writes, byte for byte, with the struct encoded as it is:
        building a dict of its fields cost as much as the rest of the line."""
        encode = self._encode
        head = self._access_heads.get((level, logger))
        if head is None:
            head = self._access_heads[(level, logger)] = (
                b'","level":%b,"service":%b,"logger":%b,"message":'
                % (encode(level), encode(self._service), encode(logger))
            )
        pieces = [
            b'{"time":"',
            self._time_of(created).encode(),
            head,
            encode(f"{access.method} {access.path} {access.status}"),
        ]
        request_id = current_request_id()
        if request_id:
            pieces += (b',"request_id":', encode(request_id))
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            pieces.append(b',"trace_id":"%032x","span_id":"%016x"' % (span.trace_id, span.span_id))
        pieces += (b',"event":"request",', encode(access)[1:])
        return _one_line(b"".join(pieces).decode())

    def _line(self, record: logging.LogRecord, access: Access | None) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
        }
        if access is None:
            entry["message"] = redact(_message(record))
        else:
            path = redact(access.path)
            entry["message"] = f"{access.method} {path} {access.status}"
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        if access is not None:
            entry["event"] = "request"
            entry["method"] = access.method
            entry["route"] = access.route
            entry["path"] = path
            entry["status"] = access.status
            entry["duration_ms"] = access.duration_ms
            entry["start"] = access.start
            if access.client is not None:
                entry["client"] = access.client
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _to_line(self._encode, entry)


def _to_line(encode: Callable[[Any], bytes], entry: Mapping[str, Any]) -> str:
    try:
        line = encode(entry).decode()
    except UnicodeEncodeError:  # a lone surrogate (a file name, a header): escaped instead
        return json.dumps(entry, separators=(",", ":"))
    return _one_line(line)


def _one_line(line: str) -> str:
    if "\u2028" in line or "\u2029" in line or "\x85" in line:
        for char, escaped in _LINE_BREAKS.items():
            line = line.replace(char, escaped)
    return line


class TextFormatter(logging.Formatter):
    """A line for people: `time LEVEL logger: message`, then the request's fields."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        access = record.msg if type(record.msg) is Access else None
        record.message = redact(_message(record))
        record.asctime = self.formatTime(record)
        line = self.formatMessage(record)
        if access is not None:
            line += f" route={access.route} start={access.start:.6f}"
            line += f" duration_ms={access.duration_ms:.1f}"
            if access.client is not None:
                line += f" client={access.client}"
        request_id = current_request_id()
        if request_id:
            line += f" rid={request_id}"
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line += f" trace_id={span.trace_id:032x}"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def create_formatter(service: str, environ: Mapping[str, str]) -> logging.Formatter:
    """JSON unless `FRONTDOOR_LOG_FORMAT=text`; any other value is a `ConfigError`."""
    choice = environ.get(LOG_FORMAT_VARIABLE, "json")
    if choice == "json":
        return JsonFormatter(service)
    if choice == "text":
        return TextFormatter()
    raise ConfigError(f"{LOG_FORMAT_VARIABLE}: {choice!r} is not one of 'json', 'text'")
