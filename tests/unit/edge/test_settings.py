"""The edge's settings: header limits and JWKS cache times, refused by the variable's name."""

from __future__ import annotations

import pytest

from edge.settings import load_settings
from service_defaults.settings import ConfigError

REQUIRED = {"EDGE_TLS_CERTFILE": "cert.pem", "EDGE_TLS_KEYFILE": "key.pem"}


def test_header_field_limit_and_jwks_times_have_their_defaults() -> None:
    settings = load_settings(REQUIRED)

    assert settings.max_header_fields == 100
    assert (settings.jwks_cache_ttl_s, settings.jwks_refetch_floor_s) == (300.0, 10.0)


def test_jwks_times_are_settings() -> None:
    settings = load_settings(
        {**REQUIRED, "EDGE_JWKS_CACHE_TTL_S": "60", "EDGE_JWKS_REFETCH_FLOOR_S": "1"}
    )

    assert (settings.jwks_cache_ttl_s, settings.jwks_refetch_floor_s) == (60.0, 1.0)


def test_a_refetch_floor_longer_than_the_cache_is_refused() -> None:
    with pytest.raises(ConfigError, match="EDGE_JWKS_REFETCH_FLOOR_S"):
        load_settings({**REQUIRED, "EDGE_JWKS_CACHE_TTL_S": "5", "EDGE_JWKS_REFETCH_FLOOR_S": "10"})


@pytest.mark.parametrize("value", ["0", "5000", "many"])
def test_a_bad_header_field_limit_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="EDGE_MAX_HEADER_FIELDS"):
        load_settings({**REQUIRED, "EDGE_MAX_HEADER_FIELDS": value})
