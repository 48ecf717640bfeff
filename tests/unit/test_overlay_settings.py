"""Every variable each rendered overlay sets names a real setting of its process and loads:
the base's check, repeated on what `kubectl apply -k` would actually apply."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_deployment_manifests import (
    FIELDS,
    INFRA,
    LOADERS,
    OTEL_VARIABLES,
    kustomize,
    needs_kubectl,
    values,
)

OVERLAYS = ["dev", "prod", "gateway"]
# Read by the PostgreSQL driver (libpq), not by a process's settings.
DRIVER_VARIABLES = {"PGPASSWORD"}


def frontdoor_containers(overlay: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{document['metadata']['name']}/{container['name']}", container)
        for document in kustomize(INFRA / "overlays" / overlay)
        if document["kind"] == "Deployment"
        for pod in [document["spec"]["template"]["spec"]]
        for container in [*pod["containers"], *pod.get("initContainers", [])]
        if container["image"].startswith("frontdoor")
    ]


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_variable_names_a_real_setting_and_loads(overlay: str) -> None:
    containers = frontdoor_containers(overlay)

    assert len(containers) >= 7  # five processes, two migrations
    for where, container in containers:
        names = {e["name"] for e in container.get("env", [])} - OTEL_VARIABLES - DRIVER_VARIABLES
        [prefix] = {p for p in LOADERS for name in names if name.startswith(p)}
        unknown = {name for name in names if name[len(prefix) :].lower() not in FIELDS[prefix]}
        assert not unknown, f"{overlay} {where} sets variables no setting reads: {sorted(unknown)}"
        environ = {k: v for k, v in values(container).items() if k not in OTEL_VARIABLES}
        LOADERS[prefix](environ)  # raises ConfigError naming the variable if a value is wrong
