"""`python -m services.orders`: run the orders service with settings from `ORDERS_*`."""

from __future__ import annotations

from service_defaults.serve import serve
from services.orders.app import create_app
from services.orders.settings import load_settings

if __name__ == "__main__":
    serve("orders", load_settings, create_app)
