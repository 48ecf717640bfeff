"""Settings of the users service, from `USERS_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults.metrics import LOOPBACK_NETWORKS, check_networks
from service_defaults.settings import load_settings as load_prefixed
from service_defaults.settings import refuse_outside_dev

PREFIX = "USERS_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8201
    environment: Literal["dev", "production"] = "production"
    database_url: str = "sqlite:///.state/users.db"
    # Private signing keys; created on first start in dev mode, by
    # `python -m services.users.rotate_keys` otherwise.
    signing_keys_path: str = ".state/signing-keys.json"
    token_issuer: str = "https://localhost:8443/auth"
    token_audience: str = "frontdoor"
    token_ttl_s: Annotated[int, msgspec.Meta(ge=60, le=86_400)] = 900
    seed_demo_users: bool = False
    dev_response_delay_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 0
    # Who may read /metrics (JSON list of networks); everyone else gets a 404.
    metrics_allowed_from: list[str] = msgspec.field(default_factory=lambda: [*LOOPBACK_NETWORKS])

    def __post_init__(self) -> None:
        refuse_outside_dev(self, PREFIX, "seed_demo_users", "dev_response_delay_ms")
        check_networks(f"{PREFIX}METRICS_ALLOWED_FROM", self.metrics_allowed_from)


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, PREFIX, environ)
