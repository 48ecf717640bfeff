"""Migrations: each service's history builds its declared tables on SQLite and PostgreSQL,
an upgrade is idempotent, and a service refuses a schema older than its code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from service_defaults.migrations import Migrations
from service_defaults.settings import ConfigError
from services.orders.tables import MIGRATIONS as ORDERS
from services.users.tables import MIGRATIONS as USERS
from tests.databases import NewDatabase

HISTORIES = {"orders": ORDERS, "users": USERS}


Connect = Callable[[str], Connection]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Connections to test databases, closed and disposed of after the test."""
    engines: list[sa.Engine] = []

    def open_connection(url: str) -> Connection:
        engines.append(sa.create_engine(url))
        return engines[-1].connect()

    yield open_connection
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("service", HISTORIES)
def test_history_builds_exactly_the_declared_tables(
    service: str, new_database: NewDatabase, connect: Connect
) -> None:
    migrations = HISTORIES[service]
    url = new_database(service)

    migrations.upgrade(url)

    with connect(url) as connection:
        # What autogenerate would write next: nothing, or tables.py and the
        # migrations have drifted apart.
        context = MigrationContext.configure(
            connection, opts={"version_table": migrations.version_table}
        )
        assert compare_metadata(context, migrations.metadata) == []


def test_second_upgrade_finds_nothing_to_do(new_database: NewDatabase) -> None:
    url = new_database("orders")

    first = ORDERS.upgrade(url)
    second = ORDERS.upgrade(url)

    assert first == (None, ORDERS.head)
    assert second == (ORDERS.head, ORDERS.head)


def test_service_refuses_an_empty_database_naming_the_command(
    new_database: NewDatabase, connect: Connect
) -> None:
    with (
        connect(new_database("orders")) as connection,
        pytest.raises(ConfigError) as refused,
    ):
        ORDERS.require_current(connection)

    assert str(refused.value) == (
        "ORDERS_DATABASE_URL: the database has no schema; run `python -m services.orders migrate`"
    )


def test_migrated_database_is_current(new_database: NewDatabase, connect: Connect) -> None:
    url = new_database("users")
    USERS.upgrade(url)

    with connect(url) as connection:
        USERS.require_current(connection)  # no refusal

        assert USERS.current(connection) == USERS.head


def test_two_services_share_one_database_each_with_its_own_history(
    new_database: NewDatabase, connect: Connect
) -> None:
    url = new_database("shared")

    migrated = [ORDERS.upgrade(url), USERS.upgrade(url)]

    assert migrated == [(None, ORDERS.head), (None, USERS.head)]
    with connect(url) as connection:
        ORDERS.require_current(connection)
        USERS.require_current(connection)


def test_tables_without_a_history_are_refused(new_database: NewDatabase, connect: Connect) -> None:
    url = new_database("orders")
    with connect(url) as connection:
        ORDERS.metadata.create_all(connection)
        connection.commit()

    with pytest.raises(ConfigError, match=r"^ORDERS_DATABASE_URL: .*\(idempotency_keys, "):
        ORDERS.upgrade(url)


# A history of two revisions, to be one behind and one ahead of.

ENV = """
import sqlalchemy as sa
from service_defaults.migrations import run_env
run_env("two", sa.MetaData())
"""
REVISION = """
import sqlalchemy as sa
from alembic import op
revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None
def upgrade() -> None:
    op.create_table("t{rev}", sa.Column("id", sa.Integer, primary_key=True))
def downgrade() -> None:
    op.drop_table("t{rev}")
"""


@pytest.fixture
def two_revisions(tmp_path: Path) -> Migrations:
    directory = tmp_path / "history"
    (directory / "versions").mkdir(parents=True)
    (directory / "env.py").write_text(ENV)
    for rev, down in (("0001", None), ("0002", "0001")):
        (directory / "versions" / f"{rev}_t.py").write_text(REVISION.format(rev=rev, down=down))
    return Migrations(
        "two", directory, metadata=sa.MetaData(), setting="TEST_DATABASE_URL", command="migrate-it"
    )


@pytest.fixture
def behind(two_revisions: Migrations, new_database: NewDatabase, connect: Connect) -> str:
    """A database at the first of the two revisions."""
    url = new_database("behind")
    with connect(url) as connection:
        command.upgrade(two_revisions.config(connection), "0001")
        connection.commit()
    return url


def test_schema_behind_the_code_is_refused_naming_both_revisions(
    two_revisions: Migrations, behind: str, connect: Connect
) -> None:
    with connect(behind) as connection, pytest.raises(ConfigError) as refused:
        two_revisions.require_current(connection)

    assert str(refused.value) == (
        "TEST_DATABASE_URL: the database schema is at revision 0001, this code needs 0002; "
        "run `migrate-it`"
    )


def test_upgrade_applies_only_the_missing_revisions(
    two_revisions: Migrations, behind: str, connect: Connect
) -> None:
    assert two_revisions.upgrade(behind) == ("0001", "0002")
    with connect(behind) as connection:
        assert {"t0001", "t0002"} <= set(sa.inspect(connection).get_table_names())


def test_schema_newer_than_the_code_is_served_with_a_warning(
    two_revisions: Migrations,
    new_database: NewDatabase,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = new_database("ahead")
    two_revisions.upgrade(url)
    with connect(url) as connection:
        # A later release's revision, which this code has never seen.
        connection.execute(sa.text("UPDATE two_schema_version SET version_num = '0003'"))
        connection.commit()

        with caplog.at_level(logging.WARNING, logger="frontdoor.migrations"):
            two_revisions.require_current(connection)

    assert "revision 0003, newer than this code knows (0002)" in caplog.text


# The domain's rules, held by the database itself.

ORDER = {
    "id": "o1",
    "owner": "alice",
    "status": "placed",
    "currency": "EUR",
    "total_minor": 100,
    "created_at": sa.func.now(),
}
ITEM = {"order_id": "o1", "position": 0, "sku": "S", "name": "N", "quantity": 1}


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("orders", ORDER | {"status": "lost"}),
        ("orders", ORDER | {"currency": "EU"}),
        ("orders", ORDER | {"total_minor": -1}),
        ("order_items", ITEM | {"quantity": 0, "unit_price_minor": 100}),
        ("order_items", ITEM | {"unit_price_minor": -5}),
        ("order_items", ITEM | {"position": -1, "unit_price_minor": 100}),
    ],
    ids=["status", "currency", "total", "quantity", "price", "position"],
)
def test_rows_that_break_the_domain_rules_are_refused(
    table: str, row: dict[str, object], new_database: NewDatabase, connect: Connect
) -> None:
    url = new_database("orders")
    ORDERS.upgrade(url)
    tables = ORDERS.metadata.tables
    with connect(url) as connection:
        if table == "order_items":
            connection.execute(tables["orders"].insert().values(ORDER))

        with pytest.raises(IntegrityError):
            connection.execute(tables[table].insert().values(row))


def test_user_timestamps_are_timestamp_columns(new_database: NewDatabase, connect: Connect) -> None:
    url = new_database("users")
    USERS.upgrade(url)

    with connect(url) as connection:
        columns = {c["name"]: c["type"] for c in sa.inspect(connection).get_columns("users")}

    assert isinstance(columns["created_at"], sa.DateTime)
