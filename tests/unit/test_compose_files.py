"""The compose files: valid by the Compose Specification's schema, healthy-before-use
ordering, migrations before services, and a production file that leaves no dev aid on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "infra" / "compose"
DEV = COMPOSE / "compose.yaml"
PROD = COMPOSE / "compose.prod.yaml"
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "compose-spec.json"
# What an operator exports before `up` in production mode (the file's header).
PROD_VARIABLES = {
    "FRONTDOOR_POSTGRES_PASSWORD": "0123abcd",
    "FRONTDOOR_USERS_DB_PASSWORD": "4567cdef",
    "FRONTDOOR_ORDERS_DB_PASSWORD": "89ab0123",
}
FRONTDOOR = {"edge", "bff_web", "bff_mobile", "users", "orders"}
PREFIXES = {"edge": "EDGE_", "bff_web": "BFF_WEB_", "bff_mobile": "BFF_MOBILE_"}
PREFIXES |= {"users": "USERS_", "orders": "ORDERS_"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def interpolate(value: str, environ: Mapping[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, as `up` fills them."""

    def fill(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if environ.get(name):
            return environ[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return _VARIABLE.sub(fill, value)


def merged(files: list[Path]) -> dict[str, Any]:
    """Services as `docker compose -f A -f B` merges them: mappings key by key, the
    later file winning; other values replaced."""
    services: dict[str, Any] = {}
    for path in files:
        for name, service in load(path)["services"].items():
            into = services.setdefault(name, {})
            for key, value in service.items():
                if isinstance(value, dict) and isinstance(into.get(key), dict):
                    into[key] = {**into[key], **value}
                else:
                    into[key] = value
    return services


def environments(
    files: list[Path], environ: Mapping[str, str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """Every Frontdoor container's environment, interpolated: one-shots included."""
    for name, service in merged(files).items():
        if "build" in service and service.get("environment"):
            env = {k: interpolate(str(v), environ) for k, v in service["environment"].items()}
            yield name, env


MODES = {"dev": [DEV], "prod": [DEV, PROD]}


def compose_environments() -> Iterator[tuple[str, dict[str, str]]]:
    """For the settings check in test_deployment_manifests: both modes."""
    for mode, files in MODES.items():
        for name, env in environments(files, PROD_VARIABLES):
            yield f"compose-{mode}:{name}", env


@pytest.mark.parametrize("path", [DEV, PROD], ids=["dev", "prod"])
def test_compose_file_is_valid_by_the_compose_specification(path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())

    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(load(path))]

    assert errors == []


@pytest.mark.parametrize("mode", MODES)
def test_every_long_running_service_is_health_checked_and_waited_for(mode: str) -> None:
    services = merged(MODES[mode])
    running = {n for n, s in services.items() if s.get("restart") != "no" and not s.get("profiles")}

    for name in running:
        assert "healthcheck" in services[name], f"{name} has no health check"
    for name, service in services.items():
        if service.get("profiles"):
            continue  # the observability backends: started in order, none gates another
        for needed, condition in service.get("depends_on", {}).items():
            wanted = "service_healthy" if needed in running else "service_completed_successfully"
            assert condition == {"condition": wanted}, f"{name} -> {needed}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("service", ["users", "orders"])
def test_service_starts_only_after_its_migration_ran_on_the_same_database(
    mode: str, service: str
) -> None:
    services = merged(MODES[mode])
    migrate = services[f"{service}-migrate"]
    env = dict(environments(MODES[mode], PROD_VARIABLES))

    assert migrate["command"] == f"python -m services.{service} migrate"
    assert migrate["restart"] == "no"
    assert services[service]["depends_on"][f"{service}-migrate"] == {
        "condition": "service_completed_successfully"
    }
    url = f"{PREFIXES[service]}DATABASE_URL"
    assert env[f"{service}-migrate"][url] == env[service][url]


def test_production_file_leaves_no_dev_aid_on() -> None:
    env = dict(environments([DEV, PROD], PROD_VARIABLES))

    for name in FRONTDOOR:
        prefix = PREFIXES[name]
        assert env[name][f"{prefix}ENVIRONMENT"] == "production", name
        for key, value in env[name].items():
            if key.startswith((f"{prefix}SEED_", f"{prefix}DEV_")):
                assert value in {"", "false", "0"}, f"{name}: {key}={value}"
    for service in ("users", "orders"):
        url = env[service][f"{PREFIXES[service]}DATABASE_URL"]
        assert url.startswith(f"postgresql+psycopg://{service}:"), url
        assert url.endswith(f"@postgres:5432/{service}")
    assert env["edge"]["EDGE_RATE_LIMIT_REDIS_URL"] == "redis://redis:6379/0"
    # Production keys on a volume of their own: a dev run's keys stay on the data volume.
    assert env["users"]["USERS_SIGNING_KEYS_PATH"] == "/keys/signing-keys.json"
    assert "users-keys:/keys:ro" in merged([DEV, PROD])["users"]["volumes"]


def test_production_passwords_come_only_from_the_environment() -> None:
    with pytest.raises(KeyError, match="FRONTDOOR_USERS_DB_PASSWORD"):
        dict(environments([DEV, PROD], {}))
    for password in PROD_VARIABLES.values():
        assert password not in PROD.read_text()


def test_compose_mounts_paths_that_exist() -> None:
    for name, service in merged([DEV, PROD]).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).resolve().exists(), f"{name}: {source}"
