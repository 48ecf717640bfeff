"""Settings of the mobile BFF, from `BFF_MOBILE_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults.settings import load_settings as load_prefixed


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8102
    # dev mode honours the X-Fault header (fault injection); production ignores it.
    environment: Literal["dev", "production"] = "production"
    # Direct internal addresses: a BFF never calls back through the edge.
    users_url: str = "http://127.0.0.1:8201"
    orders_url: str = "http://127.0.0.1:8202"
    # A screen's whole time budget, when the edge does not send a smaller one.
    request_budget_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    breaker_failure_threshold: Annotated[int, msgspec.Meta(ge=1)] = 5
    breaker_reset_after_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, "BFF_MOBILE_", environ)
