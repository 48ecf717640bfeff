"""Engines from database URLs (SQLite in WAL mode, PostgreSQL), refused naming the setting."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from service_defaults.settings import ConfigError

# A server that does not answer a connection attempt must not hold a worker thread
# for the operating system's TCP timeout (minutes).
CONNECT_TIMEOUT_S = 5


def create_engine(url: str, *, setting: str, threads: int) -> Engine:
    """A pooled engine of `threads` connections for `url`; any way the URL or its
    driver is wrong becomes one `ConfigError` naming `setting`, never the URL."""

    def refuse(reason: str) -> ConfigError:
        # The reason, never the URL: a PostgreSQL URL may hold a password.
        return ConfigError(f"{setting}: cannot open the database: {reason}")

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise refuse("not a database URL (e.g. sqlite:///.state/app.db)") from None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            # Every pooled connection would open its own, empty database.
            raise refuse("an in-memory SQLite database cannot be shared; name a file")
        directory = Path(parsed.database).parent
        if not parsed.query.get("uri") and not directory.is_dir():  # a URI is for SQLite to check
            raise refuse(f"directory {directory} does not exist")
    try:
        # pool_pre_ping pays off only for servers, whose connections can go stale.
        server = parsed.get_backend_name() != "sqlite"
        engine = sa.create_engine(
            parsed,
            pool_size=threads,
            max_overflow=0,
            pool_pre_ping=server,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S} if server else {},
        )
    except NoSuchModuleError:
        raise refuse(f"SQLAlchemy has no driver {parsed.drivername!r}") from None
    except ImportError as exc:
        raise refuse(f"the driver for {parsed.drivername!r} is not installed ({exc})") from None
    except (ArgumentError, ValueError) as exc:  # ValueError: sqlite's ?timeout=abc
        raise refuse(scrub(str(exc), parsed.password)) from None
    if engine.dialect.is_async:
        # The seam for asyncpg and the like: `AsyncConnection.run_sync(work)` runs the
        # same units of work on the loop, in a greenlet; not wired up yet.
        raise refuse(f"{parsed.drivername!r} is an async driver; use a sync one")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# WAL lets readers run while one writer commits; the busy timeout makes a second
# writer wait its turn instead of failing with "database is locked".
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def scrub(reason: str, password: str | None) -> str:
    # Drivers' messages name host and port, not the password; this makes sure of it.
    # One line: psycopg's message adds a second ("Is the server running ...").
    reason = " ".join(reason.split())
    return reason.replace(password, "***") if password else reason
