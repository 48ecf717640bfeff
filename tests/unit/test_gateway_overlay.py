"""The gateway overlay: prod, reached through a Gateway API Gateway that re-encrypts
to the edge, with only the Gateway public."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from edge.settings import load_settings
from tests.unit.test_deployment_manifests import KUBERNETES_VERSION, kustomize, needs_kubectl

OVERLAY = Path(__file__).resolve().parents[2] / "infra" / "overlays" / "gateway"
GATEWAY_API = "gateway.networking.k8s.io/v1"
# Read by the OpenTelemetry SDK, not by the edge's settings.
OTEL_VARIABLES = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}
DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

pytestmark = needs_kubectl


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return [d for d in kustomize(OVERLAY) if d]


def the(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of that kind (and name) in the render."""
    [found] = [
        d
        for d in documents
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    return found


def literal_env(container: dict[str, Any]) -> dict[str, str]:
    """A container's env; entries from a Secret or a field (`valueFrom`) have no value here."""
    return {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}


def edge_env(documents: list[dict[str, Any]]) -> dict[str, str]:
    pod = the(documents, "Deployment", "edge")["spec"]["template"]["spec"]
    [container] = [c for c in pod["containers"] if c["name"] == "edge"]
    return literal_env(container)


def networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in json.loads(value)]


def test_only_the_gateway_is_public_the_edge_service_is_cluster_ip(
    documents: list[dict[str, Any]],
) -> None:
    edge = the(documents, "Service", "edge")["spec"]

    assert edge["type"] == "ClusterIP"
    # The API server refuses it on a ClusterIP Service.
    assert "externalTrafficPolicy" not in edge
    for service in (d for d in documents if d["kind"] == "Service"):
        name = service["metadata"]["name"]
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", name


def test_the_route_attaches_to_the_rendered_gateway_and_sends_everything_to_the_edge(
    documents: list[dict[str, Any]],
) -> None:
    gateway = the(documents, "Gateway")
    route = the(documents, "HTTPRoute", "edge")
    [parent] = route["spec"]["parentRefs"]
    [rule] = route["spec"]["rules"]
    [backend] = rule["backendRefs"]
    service = the(documents, "Service", backend["name"])

    assert route["apiVersion"] == GATEWAY_API
    assert parent["name"] == gateway["metadata"]["name"]
    assert parent.get("group", "gateway.networking.k8s.io") == "gateway.networking.k8s.io"
    assert parent.get("kind", "Gateway") == "Gateway"
    namespace = route["metadata"]["namespace"]
    assert parent.get("namespace", namespace) == gateway["metadata"]["namespace"]
    if "sectionName" in parent:
        assert parent["sectionName"] in {lis["name"] for lis in gateway["spec"]["listeners"]}
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert backend["name"] == "edge"
    assert (backend.get("group", ""), backend.get("kind", "Service")) == ("", "Service")
    assert "namespace" not in backend
    # The Service's port, not the pod's: required for a Service.
    assert backend["port"] in {p["port"] for p in service["spec"]["ports"]}


def test_the_gateway_re_encrypts_to_the_edge_checking_its_name_and_ca(
    documents: list[dict[str, Any]],
) -> None:
    policy = the(documents, "BackendTLSPolicy")
    spec = policy["spec"]
    [target] = spec["targetRefs"]
    validation = spec["validation"]
    [ca] = validation["caCertificateRefs"]

    assert policy["apiVersion"] == GATEWAY_API
    edge = the(documents, "Service", "edge")
    assert policy["metadata"]["namespace"] == edge["metadata"]["namespace"]
    assert {k: target[k] for k in ("group", "kind", "name")} == {
        "group": "",
        "kind": "Service",
        "name": "edge",
    }
    # The SNI sent and the name the edge's certificate must carry.
    assert DNS_NAME.fullmatch(validation["hostname"])
    assert {k: ca[k] for k in ("group", "kind")} == {"group": "", "kind": "ConfigMap"}
    assert ca["name"]
    # One source of trust only: the edge's own CA, not the system's.
    assert not validation.get("wellKnownCACertificates")


def test_the_gateway_listener_terminates_tls_and_admits_only_routes_of_its_namespace(
    documents: list[dict[str, Any]],
) -> None:
    gateway = the(documents, "Gateway")
    [listener] = gateway["spec"]["listeners"]
    tls = listener["tls"]
    [certificate] = tls["certificateRefs"]
    allowed = listener["allowedRoutes"]

    assert gateway["apiVersion"] == GATEWAY_API
    assert DNS_NAME.fullmatch(gateway["spec"]["gatewayClassName"])
    assert (listener["name"], listener["protocol"], listener["port"]) == ("https", "HTTPS", 443)
    assert tls.get("mode", "Terminate") == "Terminate"
    assert certificate.get("group", "") == ""
    assert certificate.get("kind", "Secret") == "Secret"
    assert certificate["name"]
    assert "namespace" not in certificate
    assert allowed["namespaces"] == {"from": "Same"}
    for kind in allowed.get("kinds", []):
        assert kind.get("group", "gateway.networking.k8s.io") == "gateway.networking.k8s.io"
        assert kind["kind"] == "HTTPRoute"


def test_the_gateway_answers_at_the_address_tokens_name_as_their_issuer(
    documents: list[dict[str, Any]],
) -> None:
    [listener] = the(documents, "Gateway")["spec"]["listeners"]
    issuer = urlsplit(edge_env(documents)["EDGE_TOKEN_ISSUER"])

    assert issuer.scheme == "https"
    assert listener["hostname"] == issuer.hostname
    assert issuer.port in {None, listener["port"]}


def test_the_edge_believes_forwarded_for_only_from_the_gateway_and_its_env_loads(
    documents: list[dict[str, Any]],
) -> None:
    env = edge_env(documents)
    settings = load_settings({k: v for k, v in env.items() if k not in OTEL_VARIABLES})

    assert settings.environment == "production"
    assert settings.trusted_proxies == json.loads(env["EDGE_TRUSTED_PROXIES"])
    assert networks(env["EDGE_TRUSTED_PROXIES"]) == [ipaddress.ip_network("10.0.0.0/8")]


def test_nobody_the_gateway_forwards_can_read_the_edge_metrics(
    documents: list[dict[str, Any]],
) -> None:
    env = edge_env(documents)
    # Every public request reaches the edge from a gateway pod: a network allowed to
    # read /metrics must hold none of them.
    for allowed in networks(env["EDGE_METRICS_ALLOWED_FROM"]):
        for gateway in networks(env["EDGE_TRUSTED_PROXIES"]):
            assert allowed.version != gateway.version or not allowed.overlaps(gateway), allowed


def test_the_render_still_runs_every_process_in_production(
    documents: list[dict[str, Any]],
) -> None:
    modes: dict[str, str] = {}
    for workload in (d for d in documents if d["kind"] in {"Deployment", "StatefulSet"}):
        pod = workload["spec"]["template"]["spec"]
        for container in [*pod["containers"], *pod.get("initContainers", [])]:
            where = f"{workload['metadata']['name']}/{container['name']}"
            for name, value in literal_env(container).items():
                if name.endswith("_ENVIRONMENT"):
                    modes[f"{where}:{name}"] = value

    assert {mode.split("/")[0] for mode in modes} >= {
        "edge",
        "bff-web",
        "bff-mobile",
        "users",
        "orders",
    }
    assert {where: mode for where, mode in modes.items() if mode != "production"} == {}


def test_the_render_holds_the_gateway_api_objects_and_its_built_in_kinds_are_valid(
    documents: list[dict[str, Any]],
) -> None:
    gateway_api = [d for d in documents if d["apiVersion"].startswith("gateway.networking.k8s.io/")]

    # The built-in schemas know no CRD: the Gateway API objects are checked field by
    # field in the tests above.
    for document in documents:
        if document not in gateway_api:
            # strict: a misspelt field is an error, not a field the API server drops.
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    assert sorted((d["apiVersion"], d["kind"]) for d in gateway_api) == [
        (GATEWAY_API, "BackendTLSPolicy"),
        (GATEWAY_API, "Gateway"),
        (GATEWAY_API, "HTTPRoute"),
    ]
    for document in gateway_api:
        assert document["metadata"]["namespace"] == "frontdoor", document["kind"]
