"""The one way every process starts: load settings, build the app, run uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from types import FrameType, TracebackType
from typing import Any, NoReturn, Protocol, TypeVar

import uvicorn
from litestar import Litestar

from service_defaults.log_handler import BatchingStreamHandler
from service_defaults.logs import create_formatter
from service_defaults.request_context import write_access_lines_to
from service_defaults.settings import ConfigError


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


def configure_logging(name: str, environ: Mapping[str, str] = os.environ) -> None:
    """Every line to stderr as one JSON object (`FRONTDOOR_LOG_FORMAT=text` for people),
    uvicorn's and Python's own included; raises `ConfigError` on an unknown format."""
    formatter = create_formatter(name, environ)
    # Formatted on the thread that logs (a QueueHandler's thread formatting every
    # line was measured slower: it contends for the GIL), written in batches.
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    write_access_lines_to(handler)
    _flush_logs_on_sigterm()
    # No line names a thread, process or source line: spare every record (one per
    # request at least) looking them up, as logging's docs advise.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    # httpx logs every request at INFO; the access log already says it once.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic says which dialect it found every time it reads the schema's revision;
    # `python -m services.<name> migrate` logs what it changed in one line of its own.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Warnings and crashes would otherwise print plain text between the JSON lines.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda crash: _log_uncaught(
        crash.exc_type, crash.exc_value, crash.exc_traceback
    )


class _FlushLogsOnSigterm:
    """Writes the lines still waiting, then lets SIGTERM do what it did before.

    uvicorn stops cleanly on SIGTERM, then raises it again under the handler it
    found: the process ends by the signal, before `logging.shutdown` runs at exit.
    """

    def __init__(self, previous: Callable[[int, FrameType | None], Any] | int | None) -> None:
        self.previous = previous

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        for handler in logging.getLogger().handlers:
            # A stream that fails now must not keep the process from stopping.
            with contextlib.suppress(Exception):
                handler.flush()
        if callable(self.previous):
            self.previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL if self.previous is None else self.previous)
        signal.raise_signal(signum)


def _flush_logs_on_sigterm() -> None:
    current = signal.getsignal(signal.SIGTERM)
    # Only the main thread may set a handler; once is enough when logging is set up again.
    if threading.current_thread() is threading.main_thread() and not isinstance(
        current, _FlushLogsOnSigterm
    ):
        signal.signal(signal.SIGTERM, _FlushLogsOnSigterm(current))


def _log_uncaught(
    kind: type[BaseException], exc: BaseException | None, traceback: TracebackType | None
) -> None:
    if issubclass(kind, SystemExit):  # a thread's sys.exit(), which Python ignores too
        return
    exc = exc if exc is not None else kind()
    logging.getLogger("frontdoor").critical("uncaught exception", exc_info=(kind, exc, traceback))


def serve(
    name: str,
    load: Callable[[Mapping[str, str]], S],
    create_app: Callable[[S], Litestar],
    server_options: Callable[[S], dict[str, Any]] = lambda _: {},
) -> None:
    """Exit with status 2 and one line naming the setting when configuration is wrong,
    whether loading the settings found it or the lifespan opening a resource did."""
    try:
        configure_logging(name)
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


class Migrates(Protocol):
    def upgrade(self, url: str) -> tuple[str | None, str]: ...


def serve_or_migrate(
    name: str,
    load: Callable[[Mapping[str, str]], S],
    create_app: Callable[[S], Litestar],
    *,
    migrations: Migrates,
    database_url: Callable[[S], str],
    argv: list[str] | None = None,
) -> None:
    """A service's command line: no argument serves, `migrate` brings its database
    schema up to date and exits (run once before the replicas start)."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    if parser.parse_args(argv).command == "serve":
        serve(name, load, create_app)
        return
    try:
        configure_logging(name)
        before, after = migrations.upgrade(database_url(load(os.environ)))
    except ConfigError as exc:
        _stop_on_config_error(name, str(exc))
    log = logging.getLogger("frontdoor.migrations")
    if before == after:
        log.info("database schema already at revision %s", after)
    else:
        log.info("database schema migrated from revision %s to %s", before or "(empty)", after)


def _stop_on_config_error(name: str, message: str) -> NoReturn:
    # The log lines waiting in the buffer happened first: they come out first.
    for handler in logging.getLogger().handlers:
        handler.flush()
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
