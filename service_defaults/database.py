"""`Database`: units of work on a synchronous SQLAlchemy engine, each run in one thread hop.

A unit of work is a plain function of a `Connection`, run whole on a small thread pool
(docs/performance.md has the measurements that chose this). `open_database` turns every
way of failing to open into one `ConfigError` line naming the setting.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError

from service_defaults.engines import create_engine, scrub
from service_defaults.settings import ConfigError
from service_defaults.telemetry import DISABLED, Telemetry

if TYPE_CHECKING:
    import psycopg

P = ParamSpec("P")
T = TypeVar("T")

# Worker threads, and as many pooled connections, so a unit of work never waits for one.
# SQLite runs one writer at a time and, in WAL mode, readers beside it.
DEFAULT_THREADS = 4
PING_TIMEOUT_S = 1.0

# How another thread stops the statement a worker runs, by dialect: sqlite3's
# interrupt() and psycopg's cancel_safe() are both safe from any thread. Without an
# entry a cancelled statement runs to its end and its result is dropped.
INTERRUPTERS: Mapping[str, Callable[[DBAPIConnection], None]] = {
    "sqlite": lambda connection: cast("sqlite3.Connection", connection).interrupt(),
    "postgresql": lambda connection: cast("psycopg.Connection[Any]", connection).cancel_safe(),
}


class _Job(Generic[T]):
    """One unit of work, shared by the awaiting task and the worker thread."""

    __slots__ = ("cancelled", "commit", "connection", "lock", "work")

    def __init__(self, work: Callable[[Connection], T], *, commit: bool) -> None:
        self.work, self.commit = work, commit
        self.lock = threading.Lock()
        self.cancelled = False
        self.connection: DBAPIConnection | None = None

    def attach(self, connection: DBAPIConnection | None) -> bool:
        # Under the lock, and detached (None) before the connection goes back to the
        # pool: an interrupt meant for this job must not reach the next one.
        with self.lock:
            self.connection = connection
            return not self.cancelled

    def cancel(self, interrupt: Callable[[DBAPIConnection], None] | None) -> None:
        with self.lock:
            self.cancelled = True
            if self.connection is not None and interrupt is not None:
                interrupt(self.connection)


class Database:
    def __init__(self, engine: Engine, *, threads: int = DEFAULT_THREADS) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="database")
        self._interrupt = INTERRUPTERS.get(engine.dialect.name)

    async def run(
        self, work: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work` on a pooled connection; whatever it wrote is rolled back."""
        return await self._submit(_Job(lambda c: work(c, *args, **kwargs), commit=False))

    async def run_in_transaction(
        self, work: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work` in a transaction, committed when it returns, rolled back when it raises."""
        return await self._submit(_Job(lambda c: work(c, *args, **kwargs), commit=True))

    async def ping(self, timeout_s: float = PING_TIMEOUT_S) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await self.run(_select_one)
        except (SQLAlchemyError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        # Off the loop: a worker may still be finishing an interrupted statement.
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        self.engine.dispose()

    async def _submit(self, job: _Job[T]) -> T:
        # In the caller's context: a statement's span is a child of the request's.
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, context.run, self._perform, job
        )
        try:
            return await future
        except asyncio.CancelledError:
            # The caller gave up (a deadline ran out): stop the statement now rather
            # than let a thread and a connection work on for nobody.
            job.cancel(self._interrupt)
            raise

    def _perform(self, job: _Job[T]) -> T:
        with self.engine.connect() as connection:
            if not job.attach(connection.connection.dbapi_connection):
                raise asyncio.CancelledError  # cancelled before it started: nobody awaits it
            try:
                result = job.work(connection)
                # A unit of work cancelled while it ran is rolled back, not committed.
                if job.commit and not job.cancelled:
                    connection.commit()
                return result
            finally:
                job.attach(None)


@asynccontextmanager
async def open_database(
    url: str, *, setting: str, threads: int = DEFAULT_THREADS, telemetry: Telemetry = DISABLED
) -> AsyncIterator[Database]:
    """The database, connected once to prove it answers; closed on the way out.

    Call it from a lifespan: the URL, its driver and an SQLite file's directory
    are checked first, then one connection is made.
    """
    engine = create_engine(url, setting=setting, threads=threads)
    telemetry.instrument_engine(engine)
    database = Database(engine, threads=threads)
    try:
        async with refusals_name(setting, database.engine.url.password):
            await database.run(_select_one)
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def refusals_name(setting: str, password: str | None = None) -> AsyncIterator[None]:
    """Start-up work the database refuses (a role without CREATE, a full disk) stops
    start-up with one line naming the setting, never a traceback."""
    try:
        yield
    except SQLAlchemyError as exc:
        # The driver's own words, without SQLAlchemy's "[SQL: ...]" and link.
        reason = scrub(str(getattr(exc, "orig", None) or exc), password)
        raise ConfigError(f"{setting}: cannot open the database: {reason}") from None


def insert_unless_present(connection: Connection, table: sa.Table, row: Mapping[str, Any]) -> bool:
    """Insert `row` unless its key is taken; True when this call wrote it.

    The database's unique index decides, not an earlier read: replicas seeding the
    same rows at once write each exactly once.
    """
    statement: postgresql.Insert | sqlite.Insert
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(table).values(row).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(row).on_conflict_do_nothing()
    # RETURNING, not rowcount: drivers do not all count the rows of an INSERT.
    written = statement.returning(*table.primary_key.columns)
    return connection.execute(written).first() is not None


def as_utc(value: datetime) -> datetime:
    """A stored timestamp in UTC: SQLite hands back naive datetimes, every one written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """A stored timestamp as the APIs show it: UTC, always with microseconds."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _select_one(connection: Connection) -> None:
    connection.exec_driver_sql("SELECT 1")
