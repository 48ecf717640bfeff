"""Every variable each rendered overlay sets names a real setting of its process and loads
(the base's check, on what `kubectl apply -k` would apply), and the prod overlay's route
file is the shipped one with the public origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from edge.route_file import read_route_file
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


SHIPPED_ROUTES = INFRA / "edge" / "routes.yaml"
PROD_ROUTES = INFRA / "overlays" / "prod" / "routes.yaml"


def test_the_prod_route_file_differs_from_the_shipped_one_only_in_its_browser_origins() -> None:
    shipped = yaml.safe_load(SHIPPED_ROUTES.read_text())
    prod = yaml.safe_load(PROD_ROUTES.read_text())
    origins = prod["cors"]["web"]["allow_origins"]

    prod["cors"]["web"]["allow_origins"] = shipped["cors"]["web"]["allow_origins"]
    assert prod == shipped
    issuer = next(
        e["value"]
        for d in yaml.safe_load_all((INFRA / "overlays" / "prod" / "issuer.yaml").read_text())
        if d["metadata"]["name"] == "edge"
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
        if e["name"] == "EDGE_TOKEN_ISSUER"
    )
    assert origins == [f"https://{urlsplit(issuer).netloc}"]


def test_the_prod_route_file_loads_with_the_edges_own_reader() -> None:
    upstreams = {name: "http://127.0.0.1:1" for name in ("users", "bff_web", "bff_mobile")}

    route_file = read_route_file(PROD_ROUTES, upstreams)

    assert route_file.routes


@needs_kubectl
def test_the_prod_edge_reads_the_route_file_from_its_configmap() -> None:
    documents = kustomize(INFRA / "overlays" / "prod")
    [edge] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "edge"]
    pod = edge["spec"]["template"]["spec"]
    [container] = pod["containers"]
    path = Path(values(container)["EDGE_ROUTES_FILE"])
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    [configmap] = [d for d in documents if d["metadata"]["name"] == volume["configMap"]["name"]]

    assert configmap["kind"] == "ConfigMap"
    assert configmap["data"][path.name] == PROD_ROUTES.read_text()
