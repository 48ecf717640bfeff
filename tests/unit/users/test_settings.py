"""`USERS_*` settings: dev-only switches are refused in production, naming the variable."""

from __future__ import annotations

import pytest

from service_defaults.settings import ConfigError
from services.users.settings import load_settings


def test_seeding_demo_users_in_production_is_refused() -> None:
    with pytest.raises(ConfigError, match="USERS_SEED_DEMO_USERS"):
        load_settings({"USERS_ENVIRONMENT": "production", "USERS_SEED_DEMO_USERS": "true"})


def test_response_delay_in_production_is_refused() -> None:
    with pytest.raises(ConfigError, match="USERS_DEV_RESPONSE_DELAY_MS"):
        load_settings({"USERS_DEV_RESPONSE_DELAY_MS": "100"})


def test_production_is_the_default_environment() -> None:
    assert load_settings({}).environment == "production"


def test_dev_mode_may_seed_demo_users() -> None:
    settings = load_settings({"USERS_ENVIRONMENT": "dev", "USERS_SEED_DEMO_USERS": "1"})

    assert settings.seed_demo_users is True


def test_token_ttl_below_its_minimum_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^USERS_TOKEN_TTL_S: Expected `int` >= 60"):
        load_settings({"USERS_TOKEN_TTL_S": "10"})
