"""Compose and Kubernetes configure each process only with settings that exist and load."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from bff_mobile import settings as bff_mobile
from bff_web import settings as bff_web
from edge import settings as edge
from services.orders import settings as orders
from services.users import settings as users
from tests.unit.test_boundaries import imported_modules

INFRA = Path(__file__).resolve().parents[2] / "infra"
MODULES = {
    "EDGE_": edge,
    "BFF_WEB_": bff_web,
    "BFF_MOBILE_": bff_mobile,
    "USERS_": users,
    "ORDERS_": orders,
}
LOADERS: dict[str, Callable[[Mapping[str, str]], object]] = {
    prefix: module.load_settings for prefix, module in MODULES.items()
}
FIELDS = {
    prefix: {field.name for field in msgspec.structs.fields(module.Settings)}
    for prefix, module in MODULES.items()
}


def compose_environments() -> Iterator[tuple[str, dict[str, str]]]:
    compose = yaml.safe_load((INFRA / "compose" / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        if service.get("environment"):
            yield f"compose:{name}", {k: str(v) for k, v in service["environment"].items()}


def kubernetes_environments() -> Iterator[tuple[str, dict[str, str]]]:
    for path in sorted((INFRA / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") != "Deployment":
                continue
            containers: list[dict[str, Any]] = document["spec"]["template"]["spec"]["containers"]
            for container in containers:
                env = {e["name"]: str(e["value"]) for e in container.get("env", [])}
                if env:
                    yield f"k8s:{document['metadata']['name']}", env


ENVIRONMENTS = [*compose_environments(), *kubernetes_environments()]


@pytest.mark.parametrize(("where", "environ"), ENVIRONMENTS, ids=[w for w, _ in ENVIRONMENTS])
def test_every_variable_names_a_real_setting_and_loads(where: str, environ: dict[str, str]) -> None:
    prefixes = {p for p in LOADERS for name in environ if name.startswith(p)}
    assert len(prefixes) == 1, f"{where} mixes prefixes {prefixes}"
    prefix = prefixes.pop()

    unknown = {name for name in environ if name[len(prefix) :].lower() not in FIELDS[prefix]}

    assert not unknown, f"{where} sets variables no setting reads: {sorted(unknown)}"
    LOADERS[prefix](environ)  # raises ConfigError naming the variable if a value is wrong


def test_manifests_were_found() -> None:
    names = {where for where, _ in ENVIRONMENTS}
    assert {"compose:edge", "k8s:edge", "k8s:bff-web", "k8s:orders"} <= names


def test_the_image_holds_every_package_a_deployable_imports() -> None:
    root = INFRA.parent
    copied = {
        line.split()[1].split("/")[0]
        for line in (root / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
    }
    first_party = {path.parent.name for path in root.glob("*/__init__.py")}
    imported = {
        module.split(".")[0]
        for package in ("edge", "bff_web", "bff_mobile", "services")
        for module in imported_modules(package)
    }

    assert (imported & first_party) - copied == set()
