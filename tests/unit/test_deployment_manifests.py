"""Compose and Kubernetes configure each process only with settings that exist and load,
and wire every process to the observability backends."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import msgspec
import pytest
import yaml
from sqlalchemy.engine import make_url

from bff_mobile import settings as bff_mobile
from bff_web import settings as bff_web
from edge import settings as edge
from services.orders import settings as orders
from services.users import settings as users
from tests.unit.test_boundaries import imported_modules
from tests.unit.test_compose_files import compose_environments

INFRA = Path(__file__).resolve().parents[2] / "infra"
BASE = INFRA / "k8s"
OVERLAYS = {"dev": INFRA / "overlays" / "dev", "prod": INFRA / "overlays" / "prod"}
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
# Read by the OpenTelemetry SDK, not by a process's settings.
OTEL_VARIABLES = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}
FIELDS = {
    prefix: {field.name for field in msgspec.structs.fields(module.Settings)}
    for prefix, module in MODULES.items()
}


def values(container: dict[str, Any]) -> dict[str, str]:
    """A container's literal env; entries from a Secret (`valueFrom`) have no value here."""
    return {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}


def kubernetes_environments() -> Iterator[tuple[str, dict[str, str]]]:
    for path in sorted((INFRA / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") != "Deployment":
                continue
            pod = document["spec"]["template"]["spec"]
            name = document["metadata"]["name"]
            for container in [*pod["containers"], *pod.get("initContainers", [])]:
                if env := values(container):
                    yield f"k8s:{name}/{container['name']}", env


ENVIRONMENTS = [*compose_environments(), *kubernetes_environments()]


@pytest.mark.parametrize(("where", "environ"), ENVIRONMENTS, ids=[w for w, _ in ENVIRONMENTS])
def test_every_variable_names_a_real_setting_and_loads(where: str, environ: dict[str, str]) -> None:
    environ = {name: value for name, value in environ.items() if name not in OTEL_VARIABLES}
    prefixes = {p for p in LOADERS for name in environ if name.startswith(p)}
    assert len(prefixes) == 1, f"{where} mixes prefixes {prefixes}"
    prefix = prefixes.pop()

    unknown = {name for name in environ if name[len(prefix) :].lower() not in FIELDS[prefix]}

    assert not unknown, f"{where} sets variables no setting reads: {sorted(unknown)}"
    LOADERS[prefix](environ)  # raises ConfigError naming the variable if a value is wrong


def test_manifests_were_found() -> None:
    names = {where for where, _ in ENVIRONMENTS}
    assert {"compose-dev:edge", "compose-prod:orders", "k8s:edge/edge"} <= names
    assert {"k8s:orders/orders", "k8s:orders/migrate", "k8s:users/migrate"} <= names


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


# --- Observability backends: the compose profile, Prometheus, Grafana, Kubernetes ---

PROCESSES = {"edge", "bff_web", "bff_mobile", "users", "orders"}
PREFIXES = {"edge": "EDGE_", "bff_web": "BFF_WEB_", "bff_mobile": "BFF_MOBILE_"}
PREFIXES |= {"users": "USERS_", "orders": "ORDERS_"}
OBSERVABILITY = INFRA / "observability"
PROFILE_SERVICES = {"otel-collector", "jaeger", "prometheus", "grafana"}
# Every metric the dashboard may chart: what the five processes expose (docs/metrics.md).
KNOWN_METRICS = {
    "frontdoor_http_requests_total",
    "frontdoor_http_request_duration_seconds_bucket",
    "frontdoor_bff_upstream_calls_total",
    "frontdoor_bff_upstream_call_duration_seconds_bucket",
    "frontdoor_edge_rate_limit_decisions_total",
    "frontdoor_jwks_fetches_total",
    "frontdoor_bff_circuit_state",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "python_gc_collections_total",
}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
PROMQL_WORDS |= {"and", "or", "unless", "offset", "inf", "nan"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = load_yaml(INFRA / "compose" / "compose.yaml")["services"]
    return services


def app_services() -> dict[str, Any]:
    """The five long-running processes; not the one-shots (migrations, certificates)."""
    return {
        name: s
        for name, s in compose_services().items()
        if "environment" in s and "build" in s and s.get("restart") != "no"
    }


def frontdoor_deployments(documents: list[Any]) -> dict[str, Any]:
    return {
        d["metadata"]["name"]: d
        for d in documents
        if d
        and d.get("kind") == "Deployment"
        and d["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[0] == "frontdoor"
    }


def manifest_documents() -> list[Any]:
    return [
        document
        for path in sorted((INFRA / "k8s").glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
    ]


def test_collector_pipelines_use_only_defined_components() -> None:
    config = load_yaml(OBSERVABILITY / "otel-collector.yaml")
    service = config["service"]

    assert set(service["extensions"]) <= set(config["extensions"])
    assert "health_check" in service["extensions"]
    assert set(service["pipelines"]) == {"traces"}  # metrics are scraped, not pushed
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            assert pipeline[kind], f"a pipeline without {kind}"
            assert set(pipeline[kind]) <= set(config[kind]), f"undefined {kind}"
        # First, so that a full collector refuses data before anything buffers it.
        assert pipeline["processors"] == ["memory_limiter", "batch"]
    assert config["exporters"]["debug"]["verbosity"] == "basic"
    assert "debug" not in service["pipelines"]["traces"]["exporters"]


def test_collector_listens_where_the_processes_and_jaeger_expect() -> None:
    config = load_yaml(OBSERVABILITY / "otel-collector.yaml")
    protocols = config["receivers"]["otlp"]["protocols"]
    jaeger = config["exporters"]["otlp/jaeger"]["endpoint"]

    # All interfaces: the collector's localhost default would shut out other containers.
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert jaeger.split(":")[0] in compose_services()
    assert jaeger.endswith(":4317")


def test_observability_profile_pins_every_image_and_publishes_only_on_localhost() -> None:
    services = compose_services()
    profiled = {n for n, s in services.items() if "observability" in s.get("profiles", [])}

    assert profiled == PROFILE_SERVICES
    for name in profiled:
        image: str = services[name]["image"]
        tag = image.rpartition(":")[2]
        assert ":" in image and tag != "latest" and any(c.isdigit() for c in tag), name
        for published in services[name].get("ports", []):
            assert published.startswith("127.0.0.1:"), f"{name} publishes {published}"
    assert not any(s.get("profiles") for s in app_services().values())


def test_compose_mounts_files_that_exist() -> None:
    for name in PROFILE_SERVICES:
        for volume in compose_services()[name].get("volumes", []):
            source = volume.split(":")[0]
            assert (INFRA / "compose" / source).resolve().exists(), f"{name}: {source}"


def test_compose_processes_export_spans_only_when_the_endpoint_is_given() -> None:
    services = app_services()

    assert set(services) == PROCESSES
    for name, service in services.items():
        environment = service["environment"]
        assert environment["OTEL_SERVICE_NAME"] == name
        # Interpolates to empty, which the SDK reads as unset: nothing exported.
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${FRONTDOOR_OTLP_ENDPOINT:-}"
    # The documented value names the collector's service and its OTLP/HTTP port.
    command = "FRONTDOOR_OTLP_ENDPOINT=http://otel-collector:4318"
    assert command in (INFRA / "compose" / "compose.yaml").read_text()
    assert command in (INFRA.parent / "docs" / "observability-backends.md").read_text()


def test_prometheus_scrapes_all_five_processes_at_their_compose_addresses() -> None:
    jobs = {j["job_name"]: j for j in load_yaml(OBSERVABILITY / "prometheus.yml")["scrape_configs"]}
    services = app_services()

    assert set(jobs) == PROCESSES
    for name, job in jobs.items():
        [target] = [t for group in job["static_configs"] for t in group["targets"]]
        host, _, port = target.partition(":")
        assert host == name
        assert port == services[name]["environment"][f"{PREFIXES[name]}PORT"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job.get("scheme", "http") == ("https" if name == "edge" else "http")


def test_only_prometheus_may_read_metrics_in_compose() -> None:
    compose = load_yaml(INFRA / "compose" / "compose.yaml")
    [pool] = compose["networks"]["default"]["ipam"]["config"]
    subnet, dynamic = ipaddress.ip_network(pool["subnet"]), ipaddress.ip_network(pool["ip_range"])
    address = compose["services"]["prometheus"]["networks"]["default"]["ipv4_address"]
    prometheus = ipaddress.ip_address(address)
    gateway = next(subnet.hosts())  # where the host's connections to published ports come from

    assert prometheus in subnet and prometheus not in dynamic
    for name, service in app_services().items():
        value = service["environment"][f"{PREFIXES[name]}METRICS_ALLOWED_FROM"]
        networks = [ipaddress.ip_network(n) for n in json.loads(value)]
        assert any(prometheus in n for n in networks), name
        assert not any(gateway in n for n in networks), name


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: what is left once strings, label
    matchers, ranges, grouping clauses, functions and keywords are taken out."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", bare)
    names = re.findall(r"[A-Za-z_:][\w:]*(?!\w|\s*\()", bare)
    return {n for n in names if n.lower() not in PROMQL_WORDS}


def test_promql_metric_names_finds_selected_metrics_only() -> None:
    expr = 'histogram_quantile(0.9, sum by (job, le) (rate(a_bucket{job=~"$job"}[1m]))) / b'

    assert promql_metric_names(expr) == {"a_bucket", "b"}


def dashboard() -> Any:
    return json.loads((OBSERVABILITY / "grafana" / "dashboards" / "frontdoor-red.json").read_text())


def dashboard_targets() -> list[tuple[str, dict[str, Any]]]:
    return [
        (panel["title"], target)
        for panel in dashboard()["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


def test_dashboard_charts_exactly_the_metrics_the_processes_expose() -> None:
    used: set[str] = set()
    for title, target in dashboard_targets():
        names = promql_metric_names(target["expr"])
        assert names, f"{title}: no metric in {target['expr']}"
        assert names <= KNOWN_METRICS, f"{title}: unknown {names - KNOWN_METRICS}"
        used |= names
    [variable] = dashboard()["templating"]["list"]
    match = re.fullmatch(r"label_values\((\w+), job\)", variable["query"]["query"])

    assert match and match[1] in KNOWN_METRICS
    assert used == KNOWN_METRICS  # every family listed has a panel


def test_dashboard_filters_every_query_by_the_job_variable() -> None:
    board = dashboard()
    [variable] = board["templating"]["list"]

    assert board["title"] == "Frontdoor RED"
    assert variable["name"] == "job"
    assert variable["multi"] and variable["includeAll"]
    for title, target in dashboard_targets():
        assert 'job=~"$job"' in target["expr"], title


def test_dashboard_uses_only_provisioned_data_sources_and_is_provisioned() -> None:
    provisioning = OBSERVABILITY / "grafana" / "provisioning"
    sources = load_yaml(provisioning / "datasources" / "datasources.yaml")["datasources"]
    [provider] = load_yaml(provisioning / "dashboards" / "dashboards.yaml")["providers"]
    grafana = compose_services()["grafana"]
    mounts = dict(v.split(":")[1::-1] for v in grafana["volumes"])
    panels = [p for p in dashboard()["panels"] if p["type"] != "row"]
    used = {p["datasource"]["uid"] for p in panels}
    used |= {t["datasource"]["uid"] for _, t in dashboard_targets()}

    assert {s["type"] for s in sources} == {"prometheus", "jaeger"}
    assert used <= {s["uid"] for s in sources}
    for source in sources:
        host = source["url"].split("//")[1].split(":")[0]
        assert host in compose_services(), source["name"]
    assert (INFRA / "compose" / mounts[provider["options"]["path"]]).resolve() == (
        OBSERVABILITY / "grafana" / "dashboards"
    )
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def check_deployments(documents: list[Any]) -> None:
    deployments = frontdoor_deployments(documents)

    assert {name.replace("-", "_") for name in deployments} == PROCESSES
    for name, deployment in deployments.items():
        process = name.replace("-", "_")
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = values(container)
        [port] = [p["containerPort"] for p in container["ports"]]

        assert env["OTEL_SERVICE_NAME"] == process
        assert json.loads(env[f"{PREFIXES[process]}METRICS_ALLOWED_FROM"])
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"
        assert annotations.get("prometheus.io/scheme", "http") == (
            "https" if process == "edge" else "http"
        )
        assert {"configMapRef": {"name": "frontdoor-telemetry", "optional": True}} in container[
            "envFrom"
        ]


def test_deployments_name_their_service_and_carry_scrape_annotations() -> None:
    check_deployments(manifest_documents())


def kustomize(directory: Path) -> list[Any]:
    built = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True
    )
    return list(yaml.safe_load_all(built.stdout))


# CI always has kubectl (with kustomize): there a missing one fails instead.
needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None and os.environ.get("CI") != "true",
    reason="needs kubectl (with kustomize) to render the manifests: https://kubernetes.io/docs/tasks/tools/",
)


@needs_kubectl
def test_kustomize_output_parses_and_keeps_the_telemetry_wiring() -> None:
    documents = kustomize(OVERLAYS["dev"])

    check_deployments(documents)
    assert {d["metadata"].get("namespace") for d in documents if d["kind"] != "Namespace"} == {
        "frontdoor"
    }


@needs_kubectl
def test_a_telemetry_configmap_in_an_overlay_reaches_every_deployment(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(BASE, tmp_path)],
                "namespace": "frontdoor",
                "configMapGenerator": [
                    {
                        "name": "frontdoor-telemetry",
                        "literals": ["OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318"],
                    }
                ],
            }
        )
    )
    documents = kustomize(tmp_path)
    [configmap] = [d for d in documents if d["metadata"]["name"].startswith("frontdoor-telemetry")]

    for deployment in frontdoor_deployments(documents).values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        refs = [e["configMapRef"]["name"] for e in container["envFrom"]]
        assert refs == [configmap["metadata"]["name"]]


def relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus's `keep` and `replace` relabelling, which is all the job uses."""
    labels = dict(labels)
    for rule in rules:
        value = ";".join(labels.get(name, "") for name in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if rule.get("action", "replace") == "keep":
            if match is None:
                return None
        elif match is not None:
            replacement = re.sub(r"\$\{?(\d+)\}?", r"\\\1", rule.get("replacement", "$1"))
            labels[rule["target_label"]] = match.expand(replacement)
    return labels


def pod_labels(deployment: Any) -> dict[str, str]:
    template = deployment["spec"]["template"]
    meta = {
        f"__meta_kubernetes_pod_label_{k}": v for k, v in template["metadata"]["labels"].items()
    }
    for key, value in template["metadata"].get("annotations", {}).items():
        meta[f"__meta_kubernetes_pod_annotation_{re.sub(r'[^A-Za-z0-9]', '_', key)}"] = value
    port = template["spec"]["containers"][0]["ports"][0]["containerPort"]
    defaults = {"__scheme__": "http", "__metrics_path__": "/metrics", "job": "frontdoor"}
    return (
        meta
        | defaults
        | {"__address__": f"10.1.2.3:{port}", "__meta_kubernetes_pod_ip": "10.1.2.3"}
    )


def test_kubernetes_scrape_job_names_each_process_as_compose_does() -> None:
    [job] = load_yaml(OBSERVABILITY / "prometheus-kubernetes.yml")["scrape_configs"]
    documents = manifest_documents()
    redis = next(d for d in documents if d and d["metadata"]["name"] == "redis")

    assert relabel(pod_labels(redis), job["relabel_configs"]) is None
    for name, deployment in frontdoor_deployments(documents).items():
        target = relabel(pod_labels(deployment), job["relabel_configs"])
        [container] = deployment["spec"]["template"]["spec"]["containers"]

        assert target is not None, name
        assert target["job"] == name.replace("-", "_")
        assert target["__address__"] == f"10.1.2.3:{container['ports'][0]['containerPort']}"
        assert target["__scheme__"] == ("https" if name == "edge" else "http")


RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def every_container() -> list[tuple[str, Any, Any]]:
    """(workload name, pod spec, container) for every container, init containers,
    Redis and PostgreSQL included."""
    return [
        (document["metadata"]["name"], pod, container)
        for document in manifest_documents()
        if document and document["kind"] in {"Deployment", "StatefulSet"}
        for pod in [document["spec"]["template"]["spec"]]
        for container in [*pod["containers"], *pod.get("initContainers", [])]
    ]


def test_every_container_runs_restricted() -> None:
    containers = every_container()

    assert {name for name, _, _ in containers} >= {"edge", "redis", "postgres", "users", "orders"}
    for name, _, container in containers:
        context = container["securityContext"]
        assert {key: context.get(key) for key in RESTRICTED} == RESTRICTED, name
        assert context["runAsUser"] != 0, name


def test_every_container_has_requests_limits_and_long_running_ones_both_probes() -> None:
    for name, pod, container in every_container():
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), name
        assert {"cpu", "memory"} <= set(resources["limits"]), name
        if container in pod["containers"]:  # Kubernetes refuses probes on init containers
            assert "readinessProbe" in container and "livenessProbe" in container, name


def test_every_container_can_write_only_to_its_volumes() -> None:
    # A read-only root filesystem: Python's and SQLite's temporary files need /tmp.
    for name, pod, container in every_container():
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
        if container["image"].startswith("frontdoor"):
            assert "emptyDir" in volumes[mounts["/tmp"]], name  # noqa: S108 - a path in a pod
        claims = {claim["metadata"]["name"] for claim in pod.get("volumeClaimTemplates", [])}
        templates = {
            claim["metadata"]["name"]
            for document in manifest_documents()
            if document and document["kind"] == "StatefulSet"
            for claim in document["spec"].get("volumeClaimTemplates", [])
        }
        assert set(mounts.values()) <= set(volumes) | claims | templates, name


OUTSIDE = "outside"  # a client on the internet, or a pod of another namespace
APPS = ("edge", "bff-web", "bff-mobile", "users", "orders", "redis", "postgres")
PORTS = (8443, 8000, 6379, 5432)
# Every call the design makes, and nothing more.
ALLOWED_CALLS = {
    (OUTSIDE, "edge", 8443),
    ("edge", "bff-web", 8000),
    ("edge", "bff-mobile", 8000),
    ("edge", "users", 8000),
    ("edge", "redis", 6379),
    ("bff-web", "users", 8000),
    ("bff-web", "orders", 8000),
    ("bff-mobile", "users", 8000),
    ("bff-mobile", "orders", 8000),
    ("orders", "users", 8000),
    ("users", "postgres", 5432),
    ("orders", "postgres", 5432),
}


def selects(selector: dict[str, Any], app: str) -> bool:
    """Whether a label selector picks the pods labelled `app: <app>`."""
    if app == OUTSIDE:
        return False
    labels = {"app": app}
    expressions = selector.get("matchExpressions", [])
    assert all(e["operator"] == "In" for e in expressions), "only In is read here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        labels.get(e["key"]) in e["values"] for e in expressions
    )


def peers_allow(rules: list[Any], side: str, app: str, port: int) -> bool:
    """Whether one of a policy's rules lets `app` through on `port` (`side`: from or to)."""
    for rule in rules:
        ports = {p["port"] for p in rule.get("ports", [])}
        if ports and port not in ports:
            continue
        peers = rule.get(side)
        if peers is None:
            return True  # no peers listed: anyone
        for peer in peers:
            if "namespaceSelector" in peer:
                continue  # another namespace: observability and DNS, never an app here
            if selects(peer["podSelector"], app):
                return True
    return False


def policy_allows(policies: list[Any], direction: str, pod: str, peer: str, port: int) -> bool:
    side = "from" if direction == "Ingress" else "to"
    key = "ingress" if direction == "Ingress" else "egress"
    applying = [
        p["spec"]
        for p in policies
        if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], pod)
    ]
    return any(peers_allow(spec.get(key, []), side, peer, port) for spec in applying)


def call_allowed(policies: list[Any], caller: str, callee: str, port: int) -> bool:
    leaves = caller == OUTSIDE or policy_allows(policies, "Egress", caller, callee, port)
    return leaves and policy_allows(policies, "Ingress", callee, caller, port)


def test_network_policies_allow_exactly_the_calls_the_design_makes() -> None:
    policies = [d for d in manifest_documents() if d and d["kind"] == "NetworkPolicy"]

    allowed = {
        (caller, callee, port)
        for caller in (OUTSIDE, *APPS)
        for callee in APPS
        for port in PORTS
        if caller != callee and call_allowed(policies, caller, callee, port)
    }

    assert allowed == ALLOWED_CALLS


def test_everything_not_allowed_is_denied_both_ways() -> None:
    [deny] = [
        d["spec"]
        for d in manifest_documents()
        if d and d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny"
    ]

    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_deployable_autoscales_and_survives_a_drain() -> None:
    documents = [d for d in manifest_documents() if d]
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]: d["spec"]
        for d in documents
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app"]: d["spec"]
        for d in documents
        if d["kind"] == "PodDisruptionBudget"
    }

    assert set(scaled) == set(budgets) == {"edge", "bff-web", "bff-mobile", "users", "orders"}
    for name, spec in scaled.items():
        assert spec["minReplicas"] >= 2, name
        # A budget as large as the smallest deployment would block every node drain.
        assert budgets[name]["minAvailable"] < spec["minReplicas"], name
        assert spec["maxReplicas"] > spec["minReplicas"], name


# The oldest Kubernetes still supported by its maintainers when this was written.
KUBERNETES_VERSION = "1.32.0"


@needs_kubectl
@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_the_rendered_manifests_are_valid_kubernetes_objects(overlay: str) -> None:
    documents = kustomize(OVERLAYS[overlay])

    for document in documents:
        # strict: a misspelt field is an error, not a field the API server drops.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    assert {d["kind"] for d in documents} >= {
        "Deployment",
        "Service",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


@needs_kubectl
@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_rendered_image_is_tagged_and_none_is_latest(overlay: str) -> None:
    images = [
        container["image"]
        for document in kustomize(OVERLAYS[overlay])
        if document["kind"] == "Deployment"
        for container in document["spec"]["template"]["spec"]["containers"]
    ]

    assert "frontdoor:0.1.0" in images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", image


def rendered_environments(overlay: str) -> dict[str, dict[str, str]]:
    """Each Frontdoor Deployment's environment, as the overlay renders it."""
    return {
        name: values(d["spec"]["template"]["spec"]["containers"][0])
        for name, d in frontdoor_deployments(kustomize(OVERLAYS[overlay])).items()
    }


# Settings every process refuses outside dev mode (`refuse_outside_dev`).
DEV_ONLY = ("SEED_DEMO", "DEV_RESPONSE_DELAY_MS", "DEV_TRACE_STORE_URL")


@needs_kubectl
def test_the_prod_overlay_runs_every_process_in_production_without_dev_settings() -> None:
    environments = rendered_environments("prod")

    assert {name.replace("-", "_") for name in environments} == PROCESSES
    for name, environ in environments.items():
        [prefix] = {p for p in LOADERS for variable in environ if variable.startswith(p)}
        assert environ[f"{prefix}ENVIRONMENT"] == "production", name
        assert not [v for v in environ if any(dev in v for dev in DEV_ONLY)], name
        LOADERS[prefix]({k: v for k, v in environ.items() if k not in OTEL_VARIABLES})


@needs_kubectl
def test_the_prod_overlay_takes_the_signing_keys_from_a_secret() -> None:
    [users] = [
        d
        for d in kustomize(OVERLAYS["prod"])
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "users"
    ]
    pod = users["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = values(container)
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    keys_dir = str(Path(env["USERS_SIGNING_KEYS_PATH"]).parent)
    assert mounts[keys_dir]["readOnly"] is True
    assert volumes[mounts[keys_dir]["name"]]["secret"]["secretName"] == "users-signing-keys"
    assert env["USERS_TOKEN_ISSUER"] != "https://localhost:8443/auth"


@needs_kubectl
def test_the_dev_overlay_runs_every_process_in_dev_mode_with_demo_data() -> None:
    environments = rendered_environments("dev")

    for name, environ in environments.items():
        [prefix] = {p for p in LOADERS for variable in environ if variable.startswith(p)}
        assert environ[f"{prefix}ENVIRONMENT"] == "dev", name
        LOADERS[prefix]({k: v for k, v in environ.items() if k not in OTEL_VARIABLES})
    assert environments["users"]["USERS_SEED_DEMO_USERS"] == "true"
    assert environments["orders"]["ORDERS_SEED_DEMO_DATA"] == "true"


def secret_refs(container: dict[str, Any]) -> dict[str, str]:
    """The container's variables read from a Secret: variable -> Secret name."""
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


@needs_kubectl
@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
@pytest.mark.parametrize("service", ["users", "orders"])
def test_a_service_migrates_in_an_init_container_on_its_own_database(
    overlay: str, service: str
) -> None:
    pod = frontdoor_deployments(kustomize(OVERLAYS[overlay]))[service]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    [migrate] = pod["initContainers"]
    variable = f"{service.upper()}_DATABASE_URL"

    assert migrate["command"] + migrate["args"] == [
        "python",
        "-m",
        f"services.{service}",
        "migrate",
    ]
    assert migrate["image"] == container["image"]
    assert values(migrate)[variable] == values(container)[variable]
    assert secret_refs(migrate) == secret_refs(container)
    assert secret_refs(container)["PGPASSWORD"].startswith(f"{service}-database")


@needs_kubectl
@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_no_database_password_is_written_in_a_manifest(overlay: str) -> None:
    documents = kustomize(OVERLAYS[overlay])
    for name, deployment in frontdoor_deployments(documents).items():
        for variable, value in values(
            deployment["spec"]["template"]["spec"]["containers"][0]
        ).items():
            if variable.endswith("_DATABASE_URL"):
                assert make_url(value).password is None, name


def referenced_secrets(documents: list[Any]) -> set[str]:
    names: set[str] = set()
    for document in documents:
        if document["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        pod = document["spec"]["template"]["spec"]
        for container in [*pod["containers"], *pod.get("initContainers", [])]:
            names |= set(secret_refs(container).values())
        names |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    return names


@needs_kubectl
def test_the_prod_overlay_says_how_to_create_every_secret_it_reads() -> None:
    instructions = (OVERLAYS["prod"] / "kustomization.yaml").read_text()
    secrets = referenced_secrets(kustomize(OVERLAYS["prod"]))

    assert secrets >= {"users-database", "orders-database", "postgres-superuser", "edge-tls"}
    assert [name for name in secrets if name not in instructions] == []


@needs_kubectl
def test_the_dev_overlay_makes_every_secret_it_reads_or_tilt_does() -> None:
    documents = kustomize(OVERLAYS["dev"])
    generated = {d["metadata"]["name"] for d in documents if d["kind"] == "Secret"}
    tiltfile = (INFRA.parent / "Tiltfile").read_text()

    missing = referenced_secrets(documents) - generated
    assert missing == {"edge-tls", "users-signing-keys"}
    assert all(f"secret tls {n}" in tiltfile or f"generic {n}" in tiltfile for n in missing)
