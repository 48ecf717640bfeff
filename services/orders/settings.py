"""The orders service's settings, read from `ORDERS_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults import settings as defaults
from service_defaults.metrics import LOOPBACK_NETWORKS, check_networks
from service_defaults.settings import refuse_outside_dev

PREFIX = "ORDERS_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8202
    environment: Literal["dev", "production"] = "production"
    database_url: str = "sqlite:///.state/orders.db"
    jwks_url: str = "http://127.0.0.1:8201/.well-known/jwks.json"
    token_issuer: str = "https://localhost:8443/auth"
    token_audience: str = "frontdoor"
    # Added to every /orders response so tests can prove that a BFF calls services concurrently.
    dev_response_delay_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 0
    seed_demo_data: bool = False
    # Who may read /metrics (JSON list of networks); everyone else gets a 404.
    metrics_allowed_from: list[str] = msgspec.field(default_factory=lambda: [*LOOPBACK_NETWORKS])

    def __post_init__(self) -> None:
        refuse_outside_dev(self, PREFIX, "seed_demo_data", "dev_response_delay_ms")
        check_networks(f"{PREFIX}METRICS_ALLOWED_FROM", self.metrics_allowed_from)


def load_settings(environ: Mapping[str, str]) -> Settings:
    return defaults.load_settings(Settings, PREFIX, environ)
