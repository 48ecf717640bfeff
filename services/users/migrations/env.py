"""Alembic's entry point for the users history; `service_defaults.migrations` runs it."""

from service_defaults.migrations import run_env
from services.users.tables import metadata

run_env("users", metadata)
