"""Settings from prefixed environment variables: conversion, JSON, errors naming the variable."""

from __future__ import annotations

import msgspec
import pytest

from service_defaults.settings import ConfigError, load_settings


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    port: int = 8000
    debug: bool = False
    ratio: float = 1.0
    origins: list[str] = []


def test_strings_are_converted_to_int_bool_and_float() -> None:
    settings = load_settings(
        Sample,
        "APP_",
        {"APP_NAME": "svc", "APP_PORT": "9001", "APP_DEBUG": "true", "APP_RATIO": "0.25"},
    )

    assert settings == Sample(name="svc", port=9001, debug=True, ratio=0.25)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("false", False)])
def test_bool_accepts_true_false_and_digits(raw: str, expected: bool) -> None:
    settings = load_settings(Sample, "APP_", {"APP_NAME": "svc", "APP_DEBUG": raw})

    assert settings.debug is expected


def test_json_list_is_decoded() -> None:
    settings = load_settings(
        Sample, "APP_", {"APP_NAME": "svc", "APP_ORIGINS": '["https://a.example", "https://b"]'}
    )

    assert settings.origins == ["https://a.example", "https://b"]


def test_defaults_apply_when_unset() -> None:
    settings = load_settings(Sample, "APP_", {"APP_NAME": "svc"})

    assert settings == Sample(name="svc")


def test_bad_type_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^APP_PORT: Expected `int`"):
        load_settings(Sample, "APP_", {"APP_NAME": "svc", "APP_PORT": "eighty"})


def test_bad_list_item_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^APP_ORIGINS: Expected `str`"):
        load_settings(Sample, "APP_", {"APP_NAME": "svc", "APP_ORIGINS": "[1]"})


def test_invalid_json_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^APP_ORIGINS: not valid JSON"):
        load_settings(Sample, "APP_", {"APP_NAME": "svc", "APP_ORIGINS": "[oops"})


def test_missing_required_field_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^APP_NAME is required$"):
        load_settings(Sample, "APP_", {"APP_PORT": "1"})


def test_unrelated_variables_are_ignored() -> None:
    settings = load_settings(
        Sample,
        "APP_",
        {
            "APP_NAME": "svc",
            # Kubernetes-style service links share the prefix but match no field.
            "APP_SERVICE_HOST": "10.0.0.1",
            "APP_UNKNOWN": "not an int either",
            "OTHER_PORT": "1",
            "PORT": "2",
        },
    )

    assert settings == Sample(name="svc")
