"""Schema migrations: each service's own Alembic history, applied by an explicit command.

A service never changes its schema while it starts. `python -m services.<name> migrate`
runs `Migrations.upgrade` once before the service starts (`make run` does it, compose
runs it as a one-shot service, Kubernetes as an init container); the service checks
at start-up that the schema is not behind its code (`Migrations.require_current`).

Replicas may all run the command at once on an empty database: the upgrades are
serialised (a transaction-scoped advisory lock on PostgreSQL, a lock file beside an
SQLite database), so the first one migrates and the others find nothing to do.
"""

from __future__ import annotations

import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from service_defaults.engines import create_engine, scrub
from service_defaults.settings import ConfigError

log = logging.getLogger("frontdoor.migrations")

# Constraint names fixed by rule, the same on every database: a later migration
# can then drop or alter a constraint by its name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Migrations:
    """One service's migration history (`directory`, holding Alembic's `env.py`)."""

    def __init__(
        self,
        name: str,
        directory: Path,
        *,
        metadata: sa.MetaData,
        setting: str | None = None,
        command: str | None = None,
    ) -> None:
        self.name = name
        self.directory = directory
        # Its own history table: two services sharing one database (a small deployment)
        # would otherwise read each other's revision as their own.
        self.version_table = version_table(name)
        self.metadata = metadata  # the tables the code declares; the history must build them
        # The database URL's variable, named in every refusal, and what an operator
        # runs to migrate: a service's own, unless a test names others.
        self.setting = setting or f"{name.upper()}_DATABASE_URL"
        self.command = command or f"python -m services.{name} migrate"
        self.script = ScriptDirectory(str(directory))
        # One lock per history: two services sharing one PostgreSQL database do not
        # wait for each other. The key is a 32-bit number, the same in every process.
        self.lock_key = zlib.crc32(f"frontdoor-migrations:{name}".encode())

    @property
    def head(self) -> str:
        head = self.script.get_current_head()
        if head is None:
            raise ConfigError(f"{self.setting}: {self.directory} holds no migrations")
        return head

    def config(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.attributes["connection"] = connection
        return config

    def upgrade(self, url: str) -> tuple[str | None, str]:
        """Bring the database at `url` to the newest revision; returns (before, after).

        Every way of failing stops with one `ConfigError` naming the setting.
        """
        engine = create_engine(url, setting=self.setting, threads=1)
        try:
            with (
                _serialised(engine),
                engine.connect() as connection,
                connection.begin(),
            ):
                if connection.dialect.name == "postgresql":
                    # Held until this transaction ends: PostgreSQL's DDL is
                    # transactional, so the whole upgrade commits or none of it.
                    connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.lock_key}
                    )
                before = self.current(connection)
                if before is None:
                    self._refuse_unversioned_tables(connection)
                command.upgrade(self.config(connection), "head")
                return before, self.current(connection) or self.head
        except SQLAlchemyError as exc:
            reason = scrub(str(getattr(exc, "orig", None) or exc), engine.url.password)
            raise ConfigError(f"{self.setting}: cannot migrate the database: {reason}") from None
        finally:
            engine.dispose()

    def require_current(self, connection: Connection) -> None:
        """Refuse to serve on a schema older than the code; tolerate a newer one.

        A newer revision is one this code does not know: a rollout ran its migration
        before this (older) replica started. Migrations are written so the code before
        them keeps working (add, then later remove), so that is logged, not refused.
        """
        current = self.current(connection)
        if current == self.head:
            return
        if current is None:
            raise ConfigError(f"{self.setting}: the database has no schema; run `{self.command}`")
        if self._known(current):
            raise ConfigError(
                f"{self.setting}: the database schema is at revision {current}, this code "
                f"needs {self.head}; run `{self.command}`"
            )
        log.warning(
            "the database schema is at revision %s, newer than this code knows (%s); serving on it",
            current,
            self.head,
        )

    def current(self, connection: Connection) -> str | None:
        context = MigrationContext.configure(connection, opts={"version_table": self.version_table})
        heads = context.get_current_heads()
        return heads[0] if heads else None

    def _known(self, revision: str) -> bool:
        return any(script.revision == revision for script in self.script.walk_revisions())

    def _refuse_unversioned_tables(self, connection: Connection) -> None:
        # Tables without a history were made some other way (an older release's
        # create-at-start-up): migrating over them would fail halfway.
        existing = set(sa.inspect(connection).get_table_names()) & set(self.metadata.tables)
        if existing:
            raise ConfigError(
                f"{self.setting}: the database has tables ({', '.join(sorted(existing))}) "
                "but no migration history; a development database can be deleted, "
                "otherwise `alembic stamp` the revision it matches"
            )


@contextmanager
def _serialised(engine: Engine) -> Iterator[None]:
    """A file lock beside an SQLite database; PostgreSQL locks in the transaction."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or engine.url.query.get("uri"):
        yield
        return
    with Path(f"{database}.migrate-lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def version_table(name: str) -> str:
    return f"{name}_schema_version"


def run_env(name: str, metadata: sa.MetaData) -> None:
    """The body of every history's `env.py`: run on the connection `upgrade` holds.

    Alembic's own command line (writing a new revision with `--autogenerate`) has no
    connection: it then connects to the URL in `sqlalchemy.url`.
    """
    from alembic import context

    config = context.config
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, name, metadata)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise ConfigError("sqlalchemy.url: set it to the database to compare against")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        _configure_and_run(connection, name, metadata)
    engine.dispose()


def _configure_and_run(connection: Connection, name: str, metadata: sa.MetaData) -> None:
    from alembic import context

    # Batch mode: SQLite alters a table by copying it, and the same script must run
    # on both databases. compare_type: autogenerate notices a changed column type.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table(name),
        # Autogenerate looks only at this service's tables: in a shared database the
        # others' are not for it to drop.
        include_name=lambda table, kind, _: kind != "table" or table in metadata.tables,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
