"""The settings files a learner writes: `NAME=value` lines, as `set -a; . file` reads them."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from workshop.checks.verdicts import fail

_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def read_settings_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, value = text.removeprefix("export ").partition("=")
        if not equals or not _NAME.fullmatch(name):
            # A shell would run such a line as a command, not set a variable.
            fail(f"{path.name}, line {number}: expected NAME=value with no spaces, got {line!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def not_settings_of(
    values: dict[str, str], settings_type: type[msgspec.Struct], prefix: str
) -> list[str]:
    """The names in `values` that the process would ignore: the loader skips unknown names
    silently (see service_defaults/settings.py), so a typo would change nothing."""
    fields = {field.encode_name.upper() for field in msgspec.structs.fields(settings_type)}
    return [
        name for name in values if not (name.startswith(prefix) and name[len(prefix) :] in fields)
    ]
