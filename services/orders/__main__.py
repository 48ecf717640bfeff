"""`python -m services.orders [migrate]`: serve, or bring the database schema up to date."""

from __future__ import annotations

from service_defaults.serve import serve_or_migrate
from services.orders.app import create_app
from services.orders.settings import load_settings
from services.orders.tables import MIGRATIONS

if __name__ == "__main__":
    serve_or_migrate(
        "orders",
        load_settings,
        create_app,
        migrations=MIGRATIONS,
        database_url=lambda settings: settings.database_url,
    )
