"""Persistence of users: one table, reached through SQLAlchemy Core."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.users.passwords import hash_password
from services.users.schemas import User

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# The orders service seeds its demo orders for these same ids. Services share no
# code, so the two lists are kept equal by hand and checked by the integration tests.
DEMO_USERS = (
    ("00000000-0000-4000-8000-00000000a11c", "alice", "Alice Example", "alice@example.com"),
    ("00000000-0000-4000-8000-000000000b0b", "bob", "Bob Example", "bob@example.com"),
)


class UserStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_tables(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def credentials(self, username: str) -> tuple[str, str] | None:
        """The user id and password hash for a username, or None."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.id, users.c.password_hash).where(users.c.username == username)
                )
            ).first()
        return None if row is None else (row.id, row.password_hash)

    async def get(self, user_id: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
        # Rows carry the password hash too; converting to User leaves it behind.
        return None if row is None else msgspec.convert(row, User, from_attributes=True)

    async def seed_demo_users(self) -> None:
        """Create alice/alice and bob/bob unless they exist; development only."""
        async with self._engine.begin() as conn:
            existing = set((await conn.execute(select(users.c.id))).scalars())
            for user_id, username, display_name, email in DEMO_USERS:
                if user_id in existing:
                    continue
                await conn.execute(
                    insert(users).values(
                        id=user_id,
                        username=username,
                        display_name=display_name,
                        email=email,
                        password_hash=hash_password(username),
                        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    )
                )
