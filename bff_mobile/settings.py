"""Settings of the mobile BFF, from `BFF_MOBILE_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults.settings import load_settings as load_prefixed


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8102
    environment: Literal["dev", "production"] = "production"
    # Direct internal addresses: a BFF never calls back through the edge.
    users_url: str = "http://127.0.0.1:8201"
    orders_url: str = "http://127.0.0.1:8202"
    upstream_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, "BFF_MOBILE_", environ)
