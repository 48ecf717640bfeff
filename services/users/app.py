"""`create_app` for the users service."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import text

from service_defaults.app import create_service_app
from service_defaults.bearer import provide_principal
from service_defaults.database import create_engine
from service_defaults.settings import ConfigError
from service_defaults.tokens import TokenVerifier
from services.users.passwords import unknown_user_hash
from services.users.routes import AuthController, UsersController, delay_in_dev
from services.users.settings import Settings, load_settings
from services.users.signing_keys import KeyRing, rotate
from services.users.store import UserStore


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


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    keys = open_key_ring(settings)
    try:
        engine = create_engine(settings.database_url)
    except ConfigError as exc:
        raise ConfigError(f"USERS_DATABASE_URL: {exc}") from None
    store = UserStore(engine)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            # Computed once now, off the loop: the first unknown username must not
            # take longer than the others and so reveal that it is unknown.
            await asyncio.to_thread(unknown_user_hash)
            await store.create_tables()
            if settings.seed_demo_users:
                await store.seed_demo_users()
            yield
        finally:
            await engine.dispose()

    async def database_answers(_: State) -> bool:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    return create_service_app(
        title="Frontdoor users",
        # The dev delay slows the API, never /livez or /readyz.
        route_handlers=[
            Router(
                "/", route_handlers=[AuthController, UsersController], before_request=delay_in_dev
            )
        ],
        lifespan=[lifespan],
        readiness={"database": database_answers},
        dependencies={"principal": Provide(provide_principal)},
        state={
            "settings": settings,
            "store": store,
            "key_ring": keys,
            "token_verifier": TokenVerifier(
                keys, issuer=settings.token_issuer, audience=settings.token_audience
            ),
        },
    )
