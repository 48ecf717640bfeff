"""Settings from environment variables, converted and validated by msgspec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the environment variable."""


def load_settings(settings_type: type[S], prefix: str, environ: Mapping[str, str]) -> S:
    """Build `settings_type` from the variables named `PREFIX_FIELD`.

    Variables with the prefix that match no field are ignored rather than refused:
    Kubernetes injects `<SERVICE>_PORT`-style variables for every Service, and a
    typo-checker would stop a pod for a variable nobody set on purpose.
    """
    fields = {field.encode_name for field in msgspec.structs.fields(settings_type)}
    raw = {
        name[len(prefix) :].lower(): value
        for name, value in environ.items()
        if name.startswith(prefix) and name[len(prefix) :].lower() in fields
    }
    for name, value in raw.items():
        if value.startswith(("[", "{")):
            # Lists and tables are written as JSON: EDGE_CORS_ORIGINS='["https://a.example"]'.
            try:
                raw[name] = msgspec.json.decode(value)
            except msgspec.DecodeError:
                raise ConfigError(f"{prefix}{name.upper()}: not valid JSON") from None
    try:
        return msgspec.convert(raw, settings_type, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_name_the_variable(str(exc), prefix)) from None


def refuse_outside_dev(settings: msgspec.Struct, prefix: str, *dev_aids: str) -> None:
    """Stop start-up when a dev aid is set outside dev mode, naming its variable.

    Demo data and response delays are test and workshop aids; in production they
    would plant made-up records in real accounts or slow every caller.
    """
    if getattr(settings, "environment", "production") == "dev":
        return
    for name in dev_aids:
        if getattr(settings, name):
            raise ValueError(
                f"{prefix}{name.upper()} is honoured only with {prefix}ENVIRONMENT=dev"
            )


def _name_the_variable(message: str, prefix: str) -> str:
    # msgspec says "Expected `int`, got `str` - at `$.port`"; users set USERS_PORT.
    text, _, where = message.partition(" - at `$.")
    if where:
        field = where.split("`")[0].split(".")[0].split("[")[0]
        return f"{prefix}{field.upper()}: {text}"
    # Missing required fields and __post_init__ errors name the field themselves.
    if "required field `" in text:
        field = text.split("required field `")[1].rstrip("`")
        return f"{prefix}{field.upper()} is required"
    return text
