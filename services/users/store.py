"""Persistence of users: one table, reached through SQLAlchemy Core on the kit's `Database`."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service_defaults.database import Database
from services.users.passwords import hash_password
from services.users.schemas import User
from services.users.tables import metadata, users

# The orders service seeds its demo orders for these same ids. Services share no
# code, so the two lists are kept equal by hand and checked by the integration tests.
DEMO_USERS = (
    ("00000000-0000-4000-8000-00000000a11c", "alice", "Alice Example", "alice@example.com"),
    ("00000000-0000-4000-8000-000000000b0b", "bob", "Bob Example", "bob@example.com"),
)


class UserStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create_tables(self) -> None:
        await self._database.run_in_transaction(metadata.create_all)

    async def credentials(self, username: str) -> tuple[str, str] | None:
        """The user id and password hash for a username, or None."""
        return await self._database.run(_credentials, username)

    async def get(self, user_id: str) -> User | None:
        return await self._database.run(_get, user_id)

    async def seed_demo_users(self) -> None:
        """Create alice/alice and bob/bob unless they exist; development only."""
        await self._database.run_in_transaction(_seed_demo_users)


# Built once, with bound parameters: the compiled-statement cache then skips even the
# cache-key computation, and nothing is built per request.
_CREDENTIALS = sa.select(users.c.id, users.c.password_hash).where(
    users.c.username == sa.bindparam("username")
)
_USER = sa.select(users).where(users.c.id == sa.bindparam("user_id"))


def _credentials(conn: Connection, username: str) -> tuple[str, str] | None:
    row = conn.execute(_CREDENTIALS, {"username": username}).first()
    return None if row is None else (row.id, row.password_hash)


def _get(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(_USER, {"user_id": user_id}).first()
    # Rows carry the password hash too; converting to User leaves it behind.
    return None if row is None else msgspec.convert(row, User, from_attributes=True)


def _seed_demo_users(conn: Connection) -> None:
    existing = set(conn.execute(sa.select(users.c.id)).scalars())
    for user_id, username, display_name, email in DEMO_USERS:
        if user_id in existing:
            continue
        conn.execute(
            sa.insert(users).values(
                id=user_id,
                username=username,
                display_name=display_name,
                email=email,
                password_hash=hash_password(username),
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        )
