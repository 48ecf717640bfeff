"""Alembic's entry point for the orders history; `service_defaults.migrations` runs it."""

from service_defaults.migrations import run_env
from services.orders.tables import metadata

run_env("orders", metadata)
