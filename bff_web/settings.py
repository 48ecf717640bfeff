"""Settings of the web BFF, from `BFF_WEB_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping

from bff_kit.settings import BffSettings
from service_defaults.metrics import check_networks
from service_defaults.settings import load_settings as load_prefixed

PREFIX = "BFF_WEB_"


class Settings(BffSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8101

    def __post_init__(self) -> None:
        check_networks(f"{PREFIX}METRICS_ALLOWED_FROM", self.metrics_allowed_from)


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, PREFIX, environ)
