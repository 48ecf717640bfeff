"""The orders service: customers' orders, owner-scoped, with idempotent creation."""
