"""Tilt's live update: the Tiltfile syncs every code directory the image holds into
the `dev` stage's writable /app, the restart wrapper can take each container's
`command` because its module is in `args`, and only the dev overlay's Frontdoor
containers have a writable root filesystem."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest

from devstack.topology import MODULES
from tests.unit.test_deployment_manifests import (
    INFRA,
    frontdoor_deployments,
    kustomize,
    manifest_documents,
    needs_kubectl,
)

ROOT = INFRA.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def restart_build() -> dict[str, Any]:
    """The keyword arguments of the Tiltfile's docker_build_with_restart, and CODE."""
    tree = ast.parse((ROOT / "Tiltfile").read_text())  # Starlark, here within Python's syntax
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "CODE"
        ]:
            found["CODE"] = ast.literal_eval(node.value)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == (
            "docker_build_with_restart"
        ):
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Constant | ast.List):
                    found[str(keyword.arg)] = ast.literal_eval(keyword.value)
    return found


def stages() -> list[str]:
    return re.findall(r"^FROM \S+ AS (\w+)$", DOCKERFILE, flags=re.MULTILINE)


def test_the_tiltfile_builds_the_dev_stage_which_production_never_gets() -> None:
    build = restart_build()

    assert build["target"] == "dev"
    assert "dev" in stages()
    assert stages()[-1] == "production"  # the default target of a plain `docker build`
    assert build["entrypoint"] == ["python", "-m"]


def test_live_update_syncs_every_code_directory_the_image_copies() -> None:
    copied = {
        source: destination
        for source, destination in re.findall(r"^COPY (\S+) \./(\S+)$", DOCKERFILE, re.MULTILINE)
        if source == destination
    }

    assert sorted(restart_build()["CODE"]) == sorted(copied)


def test_every_frontdoor_container_keeps_its_module_in_args() -> None:
    deployments = frontdoor_deployments([d for d in manifest_documents() if d])

    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        module = MODULES[name.replace("-", "_")]
        assert container["command"] == ["python", "-m"], name
        assert container["args"] == [module], name
        for init in pod.get("initContainers", []):
            assert init["command"] == ["python", "-m"], name
            assert init["args"] == [module, "migrate"], name


def root_filesystems(overlay: str) -> dict[str, bool]:
    """`deployment/container` -> whether its root filesystem is read-only."""
    return {
        f"{d['metadata']['name']}/{c['name']}": c["securityContext"]["readOnlyRootFilesystem"]
        for d in kustomize(INFRA / "overlays" / overlay)
        if d["kind"] in {"Deployment", "StatefulSet"}
        for pod in [d["spec"]["template"]["spec"]]
        for c in [*pod["containers"], *pod.get("initContainers", [])]
    }


@needs_kubectl
def test_only_the_dev_overlays_frontdoor_containers_have_a_writable_root() -> None:
    dev = root_filesystems("dev")

    writable = {name for name, read_only in dev.items() if not read_only}
    assert writable == {
        *(f"{name}/{name}" for name in ("edge", "bff-web", "bff-mobile", "users", "orders")),
        "users/migrate",
        "orders/migrate",
    }
    assert dev["redis/redis"] and dev["postgres/postgres"]


@needs_kubectl
@pytest.mark.parametrize("overlay", ["prod", "gateway"])
def test_production_overlays_keep_every_root_filesystem_read_only(overlay: str) -> None:
    assert all(root_filesystems(overlay).values())


@needs_kubectl
def test_the_restart_file_is_not_hidden_by_a_volume() -> None:
    directory = restart_build()["restart_file"].rsplit("/", 1)[0]

    for document in kustomize(INFRA / "overlays" / "dev"):
        if document["kind"] != "Deployment":
            continue
        for container in document["spec"]["template"]["spec"]["containers"]:
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert directory not in mounts, document["metadata"]["name"]
