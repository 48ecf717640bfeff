"""Settings of the edge, from `EDGE_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from service_defaults.settings import load_settings as load_prefixed


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # The edge never speaks plain HTTP: the certificate and key are required.
    tls_certfile: str
    tls_keyfile: str
    host: str = "127.0.0.1"
    port: int = 8443
    environment: Literal["dev", "production"] = "production"
    users_url: str = "http://127.0.0.1:8201"
    bff_web_url: str = "http://127.0.0.1:8101"
    bff_mobile_url: str = "http://127.0.0.1:8102"
    jwks_url: str = "http://127.0.0.1:8201/.well-known/jwks.json"
    token_issuer: str = "https://localhost:8443/auth"
    token_audience: str = "frontdoor"
    upstream_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    max_body_bytes: Annotated[int, msgspec.Meta(ge=0)] = 1024 * 1024


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, "EDGE_", environ)
