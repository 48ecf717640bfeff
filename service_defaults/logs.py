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

    def _time(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return self._second_text + _MILLIS[int(record.msecs)]

    def format(self, record: logging.LogRecord) -> str:
        access = record.msg if type(record.msg) is Access else None
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
