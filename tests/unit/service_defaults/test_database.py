"""`Database`: units of work off the loop, cancellation that stops them, one-line open errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from service_defaults.database import Database, open_database, refusals_name
from service_defaults.settings import ConfigError

SETTING = "TEST_DATABASE_URL"
# Counts to 10^9: minutes of work (5M rows/s here), unless something interrupts it.
COUNT_FOR_MINUTES = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    # One worker thread: a later unit of work runs only once the earlier one let go of it.
    async with open_database(f"sqlite:///{tmp_path}/test.db", setting=SETTING, threads=1) as db:
        await db.run_in_transaction(create_notes)
        yield db


def create_notes(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE notes (body TEXT NOT NULL)")


def add_note(conn: Connection, body: str) -> None:
    conn.exec_driver_sql("INSERT INTO notes (body) VALUES (?)", (body,))


def count_notes(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM notes").scalar_one())


def count_for_minutes(conn: Connection, errors: list[Exception] | None = None) -> int:
    try:
        return int(conn.exec_driver_sql(COUNT_FOR_MINUTES).scalar_one())
    except OperationalError as exc:
        if errors is not None:
            errors.append(exc)
        raise


def add_note_then_count_for_minutes(conn: Connection) -> int:
    add_note(conn, "never committed")
    return count_for_minutes(conn)


async def cancel_soon(database: Database, work: Callable[[Connection], object]) -> None:
    """Start `work` and cancel it while it runs, as a request deadline would."""
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await database.run_in_transaction(work)


async def test_run_returns_what_the_unit_of_work_returns(database: Database) -> None:
    assert await database.run(count_notes) == 0


async def test_run_in_transaction_commits(database: Database) -> None:
    await database.run_in_transaction(add_note, "kept")

    assert await database.run(count_notes) == 1


async def test_run_rolls_back_what_it_wrote(database: Database) -> None:
    await database.run(add_note, "dropped")

    assert await database.run(count_notes) == 0


async def test_a_failing_unit_of_work_commits_nothing(database: Database) -> None:
    def add_then_fail(conn: Connection) -> None:
        add_note(conn, "dropped")
        raise LookupError("the unit of work changed its mind")

    with pytest.raises(LookupError):
        await database.run_in_transaction(add_then_fail)

    assert await database.run(count_notes) == 0


async def test_cancelling_the_caller_interrupts_the_query(database: Database) -> None:
    errors: list[Exception] = []

    await cancel_soon(database, lambda conn: count_for_minutes(conn, errors))

    # The only worker thread answers again within seconds, not minutes: the query stopped.
    async with asyncio.timeout(10):
        assert await database.run(count_notes) == 0
    [error] = errors
    assert "interrupted" in str(error)


async def test_a_cancelled_write_is_rolled_back(database: Database) -> None:
    await cancel_soon(database, add_note_then_count_for_minutes)

    async with asyncio.timeout(10):
        assert await database.run(count_notes) == 0
    await database.run_in_transaction(add_note, "after")
    assert await database.run(count_notes) == 1


async def test_a_write_cancelled_between_statements_is_not_committed(database: Database) -> None:
    def add_note_then_dawdle(conn: Connection) -> None:
        add_note(conn, "never committed")
        time.sleep(0.5)  # Python, not SQL: there is no statement to interrupt

    await cancel_soon(database, add_note_then_dawdle)

    async with asyncio.timeout(10):
        assert await database.run(count_notes) == 0


async def test_work_cancelled_while_queued_never_runs(database: Database) -> None:
    ran: list[str] = []
    slow = asyncio.create_task(database.run(count_for_minutes))
    await asyncio.sleep(0.1)  # the only thread is busy with `slow`
    queued = asyncio.create_task(database.run(lambda _: ran.append("queued")))
    await asyncio.sleep(0.05)

    queued.cancel()
    slow.cancel()
    await asyncio.gather(slow, queued, return_exceptions=True)

    async with asyncio.timeout(10):
        assert await database.run(count_notes) == 0
    assert ran == []


async def test_ping_answers(database: Database) -> None:
    assert await database.ping() is True


async def test_ping_is_false_when_the_database_does_not_answer_in_time(
    database: Database,
) -> None:
    slow = asyncio.create_task(database.run(count_for_minutes))
    await asyncio.sleep(0.1)

    assert await database.ping(timeout_s=0.2) is False

    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)
    assert await database.ping() is True


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(
    database: Database,
) -> None:
    def pragmas(conn: Connection) -> list[object]:
        names = ("journal_mode", "busy_timeout", "foreign_keys")
        return [conn.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in names]

    assert await database.run(pragmas) == ["wal", 5000, 1]


async def test_leaving_the_context_closes_the_pool(tmp_path: Path) -> None:
    async with open_database(f"sqlite:///{tmp_path}/a.db", setting=SETTING) as db:
        await db.ping()
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() == 1

    assert pool.checkedin() == 0
    with pytest.raises(RuntimeError):
        await db.run(count_notes)


UNUSABLE = {
    "not a URL": "not a database url",
    "a port that is no number": "postgresql+psycopg://frontdoor:s3cret@127.0.0.1:abc/orders",
    "driver not installed": "mysql+mysqldb://frontdoor:s3cret@127.0.0.1:1/orders",
    "no such driver": "nosuch+driver://frontdoor:s3cret@127.0.0.1:1/orders",
    "connection refused": "postgresql+psycopg://frontdoor:s3cret@127.0.0.1:1/orders",
    "no such directory": "sqlite:///{tmp}/absent/orders.db",
    "a directory, not a file": "sqlite:///{tmp}",
    "not a database file": "sqlite:///{tmp}/garbage.db",
    "in memory": "sqlite://",
}
REASONS = {
    "not a URL": "not a database URL",
    "a port that is no number": "not a database URL",
    "driver not installed": "the driver for 'mysql+mysqldb' is not installed",
    "no such driver": "SQLAlchemy has no driver 'nosuch+driver'",
    "connection refused": "Connection refused",
    "no such directory": "directory {tmp}/absent does not exist",
    "a directory, not a file": "unable to open database file",
    "not a database file": "file is not a database",
    "in memory": "an in-memory SQLite database cannot be shared",
}


@pytest.mark.parametrize("case", UNUSABLE)
async def test_unusable_database_is_one_line_naming_the_setting(case: str, tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_bytes(b"not a database " * 100)
    url = UNUSABLE[case].format(tmp=tmp_path)

    with pytest.raises(ConfigError) as raised:
        async with open_database(url, setting=SETTING):
            pass

    message = str(raised.value)
    assert message.startswith(f"{SETTING}: cannot open the database: "), message
    assert REASONS[case].format(tmp=tmp_path) in message
    assert "\n" not in message
    assert "s3cret" not in message
    assert "127.0.0.1:1/orders" not in message  # nor the rest of the URL


async def test_start_up_work_the_database_refuses_is_one_line(tmp_path: Path) -> None:
    def refused_work(connection: Connection) -> None:
        connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    async with open_database(f"sqlite:///{tmp_path}/a.db", setting=SETTING) as db:
        with pytest.raises(ConfigError) as raised:
            async with refusals_name(SETTING):
                await db.run_in_transaction(refused_work)

    assert str(raised.value) == f"{SETTING}: cannot open the database: no such table: no_such_table"
