"""The async SQLAlchemy engine: SQLite (WAL) by default, any SQLAlchemy URL by configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service_defaults.settings import ConfigError


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; SQLite gets WAL mode and a busy timeout on every connection.

    WAL lets readers run while one writer commits; the busy timeout makes a second
    writer wait its turn instead of failing with "database is locked".
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).parent
        if not directory.is_dir():
            raise ConfigError(f"database directory {directory} does not exist")
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine
