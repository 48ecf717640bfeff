"""The one way every process starts: load settings, build the app, run uvicorn."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import uvicorn
from litestar import Litestar

from service_defaults.request_context import current_request_id
from service_defaults.settings import ConfigError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ListenSettings(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


S = TypeVar("S", bound=ListenSettings)


class _OneLineConfigErrors(logging.Filter):
    """Shorten a ConfigError raised while the app starts to its message.

    Errors found while the lifespan opens resources (a database that cannot be
    opened) reach uvicorn as a formatted traceback; the operator needs the one
    line that names the setting, not the stack.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "ConfigError: " in text:
            record.msg = "configuration error: %s"
            record.args = (text.rsplit("ConfigError: ", 1)[1].splitlines()[0],)
        return True


class _RequestIdOnEveryLine(logging.Filter):
    """Append the request id to lines logged while a request is handled, so that a
    warning about a service's garbage answer can be matched to the client's request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id and record.name != "frontdoor.access":  # that line has it already
            # The id's charset (letters, digits, `._:-`) holds no `%`: safe in a format.
            record.msg = f"{record.msg} rid={request_id}"
        return True


def configure_logging() -> None:
    # Written on the event loop's thread: a QueueHandler's writer thread was
    # measured slower here (it contends for the GIL on every line).
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RequestIdOnEveryLine())
    logging.getLogger("uvicorn.error").addFilter(_OneLineConfigErrors())
    # httpx logs every request at INFO; the access log already says it once.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(
    name: str,
    load: Callable[[Mapping[str, str]], S],
    create_app: Callable[[S], Litestar],
    server_options: Callable[[S], dict[str, Any]] = lambda _: {},
) -> None:
    """Exit with status 2 and one line naming the setting when configuration is wrong."""
    configure_logging()
    try:
        settings = load(os.environ)
        app = create_app(settings)
    except ConfigError as exc:
        print(f"{name}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # RequestContextMiddleware writes the access log, with the request id
        server_header=False,
        # uvicorn would trust X-Forwarded-For from 127.0.0.1; nothing here sits behind a proxy
        # that it should believe blindly.
        proxy_headers=False,
        **server_options(settings),
    )
