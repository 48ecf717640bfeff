"""`create_app` for the users service: its database, signing keys and routes wired in."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

from litestar import Litestar
from litestar.di import Provide

from service_defaults.app import SERVICE_DEADLINE, create_service_app
from service_defaults.bearer import provide_principal
from service_defaults.database import Database, open_database, refusals_name
from service_defaults.health import ping_check
from service_defaults.resources import Resources
from service_defaults.settings import ConfigError
from service_defaults.telemetry import Telemetry, create_telemetry
from service_defaults.tokens import TokenVerifier
from services.users.passwords import unknown_user_hash
from services.users.routes import AuthController, UsersController
from services.users.settings import Settings, load_settings
from services.users.signing_keys import KeyRing, rotate
from services.users.store import UserStore
from services.users.tables import MIGRATIONS


class Opened(NamedTuple):
    """What the lifespan opens and the handlers use."""

    database: Database
    store: UserStore
    key_ring: KeyRing
    verifier: TokenVerifier


def open_key_ring(settings: Settings) -> KeyRing:
    path = Path(settings.signing_keys_path)
    if not path.exists():
        if settings.environment != "dev":
            raise ConfigError(
                f"USERS_SIGNING_KEYS_PATH: {path} does not exist; "
                "create it with `python -m services.users.rotate_keys`"
            )
        if not path.parent.is_dir():
            raise ConfigError(f"USERS_SIGNING_KEYS_PATH: directory {path.parent} does not exist")
        rotate(path, token_ttl_s=settings.token_ttl_s, dev=True)
    try:
        ring = KeyRing(path)
    except ConfigError as exc:
        raise ConfigError(f"USERS_SIGNING_KEYS_PATH: {exc}") from None
    if settings.environment != "dev" and ring.has_dev_keys:
        raise ConfigError(
            f"USERS_SIGNING_KEYS_PATH: {path} holds development keys; refusing to sign "
            "production tokens with them (create a fresh key file with "
            "`python -m services.users.rotate_keys --path NEW_FILE`)"
        )
    return ring


@asynccontextmanager
async def open_resources(settings: Settings, telemetry: Telemetry) -> AsyncIterator[Opened]:
    key_ring = open_key_ring(settings)
    async with open_database(
        settings.database_url, setting="USERS_DATABASE_URL", telemetry=telemetry
    ) as database:
        store = UserStore(database)
        # Computed once now, off the loop: the first unknown username must not
        # take longer than the others and so reveal that it is unknown.
        await asyncio.to_thread(unknown_user_hash)
        async with refusals_name("USERS_DATABASE_URL"):
            # Migrating is a separate step (`python -m services.users migrate`), run once
            # before the replicas start; each only checks the schema is not behind.
            await database.run(MIGRATIONS.require_current)
            if settings.seed_demo_users:
                await store.seed_demo_users()
        # The issuer verifies its own tokens with its own key ring: no JWKS fetch.
        verifier = TokenVerifier(
            key_ring, issuer=settings.token_issuer, audience=settings.token_audience
        )
        yield Opened(database=database, store=store, key_ring=key_ring, verifier=verifier)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    telemetry = create_telemetry("users")
    resources = Resources(lambda: open_resources(settings, telemetry))
    return create_service_app(
        title="Frontdoor users",
        route_handlers=[AuthController, UsersController],
        resources=resources,
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "store": resources.provide(lambda r: r.store),
            "key_ring": resources.provide(lambda r: r.key_ring),
            "token_verifier": resources.provide(lambda r: r.verifier),
            "principal": Provide(provide_principal),
        },
        readiness={"database": ping_check(resources, lambda r: r.database)},
        deadline=SERVICE_DEADLINE,
        dev_response_delay_ms=settings.dev_response_delay_ms,
        telemetry=telemetry,
        metrics_allowed_from=settings.metrics_allowed_from,
    )
