"""Both databases the services run on: SQLite in a temporary directory, and the real
PostgreSQL (127.0.0.1:5432 by default), each test in a schema of its own.

`database_kind` is parametrised: a test that asks for a database, directly or through
the services' fixtures, runs once on each. Without a PostgreSQL server the PostgreSQL
runs skip with a hint, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from service_defaults.migrations import Migrations

# Any server the tests may create schemas in; trust auth on this machine and in CI.
POSTGRES_URL = os.environ.get(
    "FRONTDOOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DATABASES = ("sqlite", "postgresql")

NewDatabase = Callable[[str], str]  # a name -> the URL of an empty database


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The server's URL, once it has answered; skipped (failed in CI) when it does not."""
    try:
        with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        message = (
            f"no PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} ({reason}); "
            "start one with trust auth for user postgres, or point "
            "FRONTDOOR_TEST_POSTGRES_URL at one"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture(params=DATABASES)
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@contextmanager
def postgres_schema(server: str, name: str) -> Iterator[str]:
    """A URL whose every connection works in a new, empty schema, dropped on the way out:
    tables, the migration history and the advisory lock's transaction all land there."""
    schema = f"test_{name}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def new_database(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[NewDatabase]:
    """Empty databases of this test's kind, dropped afterwards."""
    with ExitStack() as schemas:

        def new(name: str) -> str:
            if database_kind == "sqlite":
                return f"sqlite:///{tmp_path}/{name}.db"
            server: str = request.getfixturevalue("postgres_url")
            return schemas.enter_context(postgres_schema(server, name))

        yield new


def migrated(url: str, migrations: Migrations) -> str:
    migrations.upgrade(url)
    return url
