"""Persistence of users: one table, reached through SQLAlchemy Core on the kit's `Database`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service_defaults.database import Database, insert_unless_present, rfc3339
from services.users.passwords import hash_password
from services.users.schemas import User
from services.users.tables import users

# The orders service seeds its demo orders for these same ids. Services share no
# code, so the two lists are kept equal by hand and checked by the integration tests.
DEMO_USERS = (
    ("00000000-0000-4000-8000-00000000a11c", "alice", "Alice Example", "alice@example.com"),
    ("00000000-0000-4000-8000-000000000b0b", "bob", "Bob Example", "bob@example.com"),
)


class UserStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def credentials(self, username: str) -> tuple[str, str] | None:
        """The user id and password hash for a username, or None."""
        return await self._database.run(_credentials, username)

    async def get(self, user_id: str) -> User | None:
        return await self._database.run(_get, user_id)

    async def add(self, username: str, display_name: str, email: str, password: str) -> str | None:
        """A new user's id, or None when the username is taken."""
        row: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "username": username,
            "display_name": display_name,
            "email": email,
            "password_hash": await asyncio.to_thread(hash_password, password),
            "created_at": datetime.now(UTC),
        }
        # The username's unique index decides, whoever else adds the same name meanwhile.
        added = await self._database.run_in_transaction(insert_unless_present, users, row)
        return str(row["id"]) if added else None

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
    if row is None:
        return None
    # Rows carry the password hash too; the User leaves it behind.
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        created_at=rfc3339(row.created_at),
    )


def _seed_demo_users(conn: Connection) -> None:
    existing = set(conn.execute(sa.select(users.c.id)).scalars())
    for user_id, username, display_name, email in DEMO_USERS:
        if user_id in existing:
            continue  # spares hashing a password for nothing
        # A replica seeding at the same time may have written the row since the read.
        row = {
            "id": user_id,
            "username": username,
            "display_name": display_name,
            "email": email,
            "password_hash": hash_password(username),
            "created_at": datetime.now(UTC),
        }
        insert_unless_present(conn, users, row)
