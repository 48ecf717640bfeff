"""The orders service's settings, read from `ORDERS_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults import settings as defaults

PREFIX = "ORDERS_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8202
    environment: Literal["dev", "production"] = "production"
    database_url: str = "sqlite+aiosqlite:///.state/orders.db"
    jwks_url: str = "http://127.0.0.1:8201/.well-known/jwks.json"
    token_issuer: str = "https://localhost:8443/auth"
    token_audience: str = "frontdoor"
    # Added to every /orders response so tests can prove that a BFF calls services concurrently.
    dev_response_delay_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 0
    seed_demo_data: bool = False

    def __post_init__(self) -> None:
        # Both are test and demo aids; in production they would slow every caller
        # or plant made-up orders in real accounts.
        if self.environment != "dev":
            if self.dev_response_delay_ms:
                raise ValueError(
                    f"{PREFIX}DEV_RESPONSE_DELAY_MS is honoured only with {PREFIX}ENVIRONMENT=dev"
                )
            if self.seed_demo_data:
                raise ValueError(
                    f"{PREFIX}SEED_DEMO_DATA is honoured only with {PREFIX}ENVIRONMENT=dev"
                )


def load_settings(environ: Mapping[str, str]) -> Settings:
    return defaults.load_settings(Settings, PREFIX, environ)
