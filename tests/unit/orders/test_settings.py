"""Settings from `ORDERS_*` variables: defaults, conversion, and what production refuses."""

from __future__ import annotations

import pytest

from service_defaults.settings import ConfigError
from services.orders.settings import Settings, load_settings


def test_defaults_are_production_on_port_8202() -> None:
    settings = load_settings({})

    assert settings == Settings()
    assert (settings.environment, settings.port) == ("production", 8202)
    assert settings.database_url == "sqlite:///.state/orders.db"


def test_variables_are_converted_from_strings() -> None:
    settings = load_settings(
        {
            "ORDERS_ENVIRONMENT": "dev",
            "ORDERS_PORT": "9000",
            "ORDERS_DEV_RESPONSE_DELAY_MS": "250",
            "ORDERS_SEED_DEMO_DATA": "true",
            "USERS_PORT": "1",  # another service's variable is not ours
        }
    )

    assert (settings.port, settings.dev_response_delay_ms, settings.seed_demo_data) == (
        9000,
        250,
        True,
    )


def test_production_refuses_dev_delay() -> None:
    with pytest.raises(ConfigError, match="ORDERS_DEV_RESPONSE_DELAY_MS"):
        load_settings({"ORDERS_DEV_RESPONSE_DELAY_MS": "250"})


def test_production_refuses_demo_seed() -> None:
    with pytest.raises(ConfigError, match="ORDERS_SEED_DEMO_DATA"):
        load_settings({"ORDERS_ENVIRONMENT": "production", "ORDERS_SEED_DEMO_DATA": "1"})


def test_settings_built_in_code_refuse_dev_delay_in_production() -> None:
    with pytest.raises(ValueError, match="ORDERS_DEV_RESPONSE_DELAY_MS"):
        Settings(dev_response_delay_ms=100)


@pytest.mark.parametrize(
    ("name", "value"),
    [("ORDERS_DEV_RESPONSE_DELAY_MS", "-1"), ("ORDERS_PORT", "http"), ("ORDERS_ENVIRONMENT", "qa")],
)
def test_invalid_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"ORDERS_ENVIRONMENT": "dev", name: value})
