"""The orders database schema as SQLAlchemy Core tables; `migrations/` builds it.

The CHECK constraints repeat the domain's rules (schemas.py) in the database, so a
row that breaks them cannot be written by any code path, a migration included.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from service_defaults.migrations import NAMING_CONVENTION, Migrations

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Serves the one list query: an owner's orders, newest first, resumed after a cursor.
    sa.Index("ix_orders_owner_created_id", "owner", "created_at", "id"),
    sa.CheckConstraint("status IN ('placed', 'shipped', 'cancelled')", name="status"),
    sa.CheckConstraint("length(currency) = 3", name="currency"),
    sa.CheckConstraint("total_minor >= 0", name="total_minor"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
    sa.CheckConstraint("position >= 0", name="position"),
    sa.CheckConstraint("quantity > 0", name="quantity"),
    sa.CheckConstraint("unit_price_minor >= 0", name="unit_price_minor"),
)

# The primary key is the unique constraint that makes concurrent retries safe:
# only one transaction can claim (owner, key); the others fail and replay it.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("owner", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
)

# The history that builds these tables, applied by `python -m services.orders migrate`.
MIGRATIONS = Migrations("orders", Path(__file__).parent / "migrations", metadata=metadata)
