"""The one way every process starts: load settings, build the app, run uvicorn."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol, TypeVar

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


class _StartupConfigError(logging.Filter):
    """Keeps back a ConfigError raised while the app's lifespan opens its resources.

    uvicorn logs a failed start-up as the whole traceback litestar formatted; the
    operator needs the one line that names the setting, which `serve` prints
    in the same form as an error found before start-up.
    """

    def __init__(self) -> None:
        super().__init__()
        self.message: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "ConfigError: " in text:
            self.message = text.rsplit("ConfigError: ", 1)[1].splitlines()[0]
            return False
        return self.message is None or not text.startswith("Application startup failed")


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
    # LOG_FORMAT names no thread, process or source line: spare every record
    # (one per request at least) looking them up, as logging's docs advise.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RequestIdOnEveryLine())
    # httpx logs every request at INFO; the access log already says it once.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(
    name: str,
    load: Callable[[Mapping[str, str]], S],
    create_app: Callable[[S], Litestar],
    server_options: Callable[[S], dict[str, Any]] = lambda _: {},
) -> None:
    """Exit with status 2 and one line naming the setting when configuration is wrong,
    whether loading the settings found it or the lifespan opening a resource did."""
    configure_logging()
    try:
        settings = load(os.environ)
        app = create_app(settings)
    except ConfigError as exc:
        _stop_on_config_error(name, str(exc))
    startup = _StartupConfigError()
    logging.getLogger("uvicorn.error").addFilter(startup)
    try:
        _run(app, settings, server_options)
    except SystemExit:
        if startup.message is not None:
            _stop_on_config_error(name, startup.message)
        raise


def _stop_on_config_error(name: str, message: str) -> NoReturn:
    print(f"{name}: configuration error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _run(app: Litestar, settings: S, server_options: Callable[[S], dict[str, Any]]) -> None:
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
