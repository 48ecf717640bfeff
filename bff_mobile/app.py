"""`create_app` for the mobile BFF."""

from __future__ import annotations

import os

from litestar import Litestar

from bff_mobile.clients import OrdersClient, UsersClient
from bff_mobile.routes import MobileController
from bff_mobile.settings import Settings, load_settings
from service_defaults.aggregator import create_aggregator_app


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    return create_aggregator_app(
        title="Frontdoor mobile BFF",
        settings=settings,
        route_handlers=[MobileController],
        upstreams={
            "users": (settings.users_url, UsersClient),
            "orders": (settings.orders_url, OrdersClient),
        },
    )
