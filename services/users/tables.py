"""The users database schema as SQLAlchemy Core tables; `migrations/` builds it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from service_defaults.migrations import NAMING_CONVENTION, Migrations

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("length(username) > 0", name="username"),
)

# The history that builds these tables, applied by `python -m services.users migrate`.
MIGRATIONS = Migrations("users", Path(__file__).parent / "migrations", metadata=metadata)
