"""Where a new service is wired in: every edit to an existing file, anchored on the
orders service's entries, or on those of a service scaffolded since, so that the new
one lands after the last (`anchored_on_others`).

The texts use the template's placeholders (`$name`, `$NAME`, `$k8s_name`, `$port`,
`$test_password`); `plan` fills them in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from scaffold.edits import AddToLiteral, Append, Edit, InsertInLine, InsertLines
from scaffold.service import NewService

ANCHOR_SERVICE = "orders"

TOPOLOGY = "devstack/topology.py"
COMPOSE = "infra/compose/compose.yaml"
COMPOSE_PROD = "infra/compose/compose.prod.yaml"
POLICIES = "infra/k8s/network-policies.yaml"
SKELETON_TEST = "tests/unit/test_skeleton.py"
MANIFESTS_TEST = "tests/unit/test_deployment_manifests.py"
COMPOSE_TEST = "tests/unit/test_compose_files.py"


def env_patch(variable: str) -> str:
    """A strategic-merge patch that sets one variable on the new service's container."""
    return f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: $k8s_name, namespace: frontdoor}}
spec:
  template:
    spec:
      containers:
        - name: $k8s_name
          env:
            - {variable}
"""


def devstack() -> list[Edit]:
    return [
        AddToLiteral(TOPOLOGY, "DEFAULT_PORTS", "orders", ', "$name": $port', "its port, $port"),
        AddToLiteral(TOPOLOGY, "ENV_PREFIX", "orders", ', "$name": "${NAME}_"', "its prefix"),
        AddToLiteral(TOPOLOGY, "MODULES", "orders", ', "$name": "services.$name"', "its module"),
        AddToLiteral(TOPOLOGY, "DATABASES", "orders", ', "$name"', "a migration before it starts"),
        AddToLiteral(
            TOPOLOGY,
            "specs",
            "orders",
            # The trailing comma keeps it one setting a line, as the others are.
            ', "$name": {**token, "DATABASE_URL": f"sqlite:///{self.state_dir}/$name.db", '
            '"JWKS_URL": jwks_url,}',
            "its settings (a database in the state directory, the JWKS, the token issuer)",
        ),
    ]


def compose() -> list[Edit]:
    return [
        InsertLines(
            COMPOSE,
            "  bff_web:",
            """\
  $name-migrate:
    <<: *app
    restart: "no"
    command: python -m services.$name migrate
    environment: &$name-environment
      ${NAME}_HOST: 0.0.0.0
      ${NAME}_PORT: "8000"
      ${NAME}_ENVIRONMENT: dev
      ${NAME}_METRICS_ALLOWED_FROM: *metrics-readers
      OTEL_SERVICE_NAME: $name
      OTEL_EXPORTER_OTLP_ENDPOINT: ${FRONTDOOR_OTLP_ENDPOINT:-}
      ${NAME}_DATABASE_URL: sqlite:////data/$name.db
      ${NAME}_JWKS_URL: http://users:8000/.well-known/jwks.json
      ${NAME}_TOKEN_ISSUER: https://localhost:8443/auth
    volumes: [$name-data:/data]

  # Published nowhere and routed by no edge route: the BFFs call it by its name.
  $name:
    <<: *app
    command: python -m services.$name
    environment: *$name-environment
    volumes: [$name-data:/data]
    depends_on:
      $name-migrate: {condition: service_completed_successfully}
    healthcheck: *ready-on-8000

""",
            "$name-migrate and $name, health-checked",
            before=True,
        ),
        InsertLines(COMPOSE, "  orders-data:", "  $name-data:\n", "its data volume"),
        InsertLines(
            COMPOSE_PROD,
            "#   export FRONTDOOR_ORDERS_DB_PASSWORD=$(openssl rand -hex 24)",
            "#   export FRONTDOOR_${NAME}_DB_PASSWORD=$(openssl rand -hex 24)\n",
            "FRONTDOOR_${NAME}_DB_PASSWORD, in the header",
        ),
        InsertLines(
            COMPOSE_PROD,
            "x-postgres-ready: &postgres-ready",
            "x-$name-production: &$name-production\n"
            "  ${NAME}_ENVIRONMENT: production\n"
            "  ${NAME}_DATABASE_URL: postgresql+psycopg://$name:"
            "${FRONTDOOR_${NAME}_DB_PASSWORD:?set FRONTDOOR_${NAME}_DB_PASSWORD}"
            "@postgres:5432/$name\n"
            "\n",
            "its production settings, on PostgreSQL",
            before=True,
        ),
        InsertLines(
            COMPOSE_PROD,
            "      ORDERS_DB_PASSWORD: "
            "${FRONTDOOR_ORDERS_DB_PASSWORD:?set FRONTDOOR_ORDERS_DB_PASSWORD}",
            "      ${NAME}_DB_PASSWORD: "
            "${FRONTDOOR_${NAME}_DB_PASSWORD:?set FRONTDOOR_${NAME}_DB_PASSWORD}\n",
            "its role's password, for postgres-init.sh",
        ),
        InsertLines(
            COMPOSE_PROD,
            "  bff_web:",
            """\
  $name-migrate:
    environment: *$name-production
    depends_on: *postgres-ready

  $name:
    environment: *$name-production
    depends_on: *postgres-ready

""",
            "$name-migrate and $name in production mode",
            before=True,
        ),
    ]


def kubernetes(service: NewService) -> list[Edit]:
    edits: list[Edit] = [
        InsertLines(
            "infra/k8s/kustomization.yaml", "  - orders.yaml", "  - $k8s_name.yaml\n", "a resource"
        ),
        InsertInLine(
            "infra/k8s/postgres-init.sh",
            "for service in ",
            " orders",
            " $name",
            "a role and a database",
        ),
        InsertLines(
            "infra/k8s/postgres-init.sh",
            '    orders) password="${ORDERS_DB_PASSWORD:?ORDERS_DB_PASSWORD is not set}" ;;',
            '    $name) password="${${NAME}_DB_PASSWORD:?${NAME}_DB_PASSWORD is not set}" ;;\n',
            "its password variable",
        ),
        InsertLines(
            "infra/k8s/postgres.yaml",
            """\
            - name: ORDERS_DB_PASSWORD
              valueFrom: {secretKeyRef: {name: orders-database, key: password}}""",
            """\
            - name: ${NAME}_DB_PASSWORD
              valueFrom: {secretKeyRef: {name: $k8s_name-database, key: password}}
""",
            "its role's password from the $k8s_name-database Secret",
        ),
        InsertInLine(
            POLICIES,
            "#   BFFs -> ",
            "-> PostgreSQL;",
            " BFFs -> $k8s_name; $k8s_name -> users (JWKS); $k8s_name -> PostgreSQL;",
            "the header",
        ),
        InsertInLine(
            POLICIES,
            "- to: [{podSelector: {matchLabels: {app: users}}}, "
            "{podSelector: {matchLabels: {app: orders}}}",
            "{podSelector: {matchLabels: {app: orders}}}",
            ", {podSelector: {matchLabels: {app: $k8s_name}}}",
            "BFFs -> $k8s_name",
        ),
        InsertInLine(
            POLICIES,
            "- from: [{podSelector: {matchLabels: {app: edge}}}, "
            "{podSelector: {matchLabels: {app: bff-web}}}",
            "{podSelector: {matchLabels: {app: orders}}}",
            ", {podSelector: {matchLabels: {app: $k8s_name}}}",
            "$k8s_name -> users (the JWKS)",
        ),
        InsertInLine(
            POLICIES,
            "- from: [{podSelector: {matchLabels: {app: users}}}, "
            "{podSelector: {matchLabels: {app: orders}}}",
            "{podSelector: {matchLabels: {app: orders}}}",
            ", {podSelector: {matchLabels: {app: $k8s_name}}}",
            "$k8s_name -> postgres",
        ),
        InsertLines(
            POLICIES,
            """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: redis""",
            """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: $k8s_name
spec:
  podSelector: {matchLabels: {app: $k8s_name}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: bff-web}}
        - podSelector: {matchLabels: {app: bff-mobile}}
      ports: [{protocol: TCP, port: 8000}]
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: observability}}}]
      ports: [{protocol: TCP, port: 8000}]
  egress:
    - to: [{podSelector: {matchLabels: {app: users}}}]  # the JWKS
      ports: [{protocol: TCP, port: 8000}]
    - to: [{podSelector: {matchLabels: {app: postgres}}}]
      ports: [{protocol: TCP, port: 5432}]
""",
            "its own policy: from the BFFs, to users and postgres",
            before=True,
        ),
        Append(
            "infra/k8s/scaling.yaml",
            """\
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: $k8s_name
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: $k8s_name}
  minReplicas: 2
  maxReplicas: 8
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: $k8s_name
spec:
  minAvailable: 1
  selector: {matchLabels: {app: $k8s_name}}
""",
            "an autoscaler and a disruption budget",
        ),
        InsertLines(
            "infra/overlays/dev/kustomization.yaml",
            """\
  - name: orders-database
    literals: [password=dev-orders]""",
            """\
  - name: $k8s_name-database
    literals: [password=dev-$k8s_name]
""",
            "the $k8s_name-database Secret",
        ),
        Append(
            "infra/overlays/dev/dev.yaml",
            env_patch("{name: ${NAME}_ENVIRONMENT, value: dev}"),
            "dev mode",
        ),
        InsertInLine(
            "infra/overlays/dev/kustomization.yaml",
            'name: "^(edge|bff-web|bff-mobile|users|orders',
            "|orders",
            "|$k8s_name",
            "a writable root filesystem for live update",
        ),
        InsertInLine(
            "infra/overlays/dev/kustomization.yaml",
            'name: "^(users|orders',
            "|orders",
            "|$k8s_name",
            "the same for its init container",
        ),
        InsertInLine(
            "infra/overlays/prod/kustomization.yaml",
            "for name in postgres-superuser",
            " orders-database",
            " $k8s_name-database",
            "the $k8s_name-database Secret to create",
        ),
        Append(
            "infra/overlays/prod/issuer.yaml",
            env_patch('{name: ${NAME}_TOKEN_ISSUER, value: "https://frontdoor.example.com/auth"}'),
            "the production token issuer",
        ),
        InsertLines(
            "Tiltfile",
            "k8s_resource('orders', resource_deps=['users', 'postgres'])",
            "k8s_resource('$k8s_name', resource_deps=['users', 'postgres'])\n",
            "a resource after users and postgres",
        ),
        InsertLines(
            "infra/observability/prometheus.yml",
            """\
  - job_name: orders
    static_configs:
      - targets: ["orders:8000"]""",
            """\
  - job_name: $name
    static_configs:
      - targets: ["$name:8000"]
""",
            "a scrape job",
        ),
    ]
    if service.k8s_name != service.name:
        # Prometheus names a pod's series after its `app` label, which has hyphens.
        edits.append(
            InsertLines(
                "infra/observability/prometheus-kubernetes.yml",
                """\
      - source_labels: [job]
        regex: bff-(web|mobile)
        replacement: bff_$1
        target_label: job""",
                """\
      - source_labels: [job]
        regex: $k8s_name
        replacement: $name
        target_label: job
""",
                "the job named $name, as the process is",
            )
        )
    return edits


def tests(service: NewService) -> list[Edit]:
    service_module = ', "services.$name"'
    edits: list[Edit] = [
        AddToLiteral(
            SKELETON_TEST, "DEPLOYABLES", "services.orders", service_module, "DEPLOYABLES"
        ),
        AddToLiteral(SKELETON_TEST, "SERVICES", "services.orders", service_module, "SERVICES"),
        InsertLines(
            SKELETON_TEST,
            '        if package == "services.orders":',
            """\
        if package == "services.$name":
            return module.Settings(database_url=database_url)
""",
            "its settings in settings_for",
            before=True,
        ),
        AddToLiteral(
            SKELETON_TEST,
            "OPENS",
            "services.orders",
            ', "services.$name": {"database", "httpx client"}',
            "OPENS",
        ),
        AddToLiteral(
            "tests/unit/test_boundaries.py",
            "DEPLOYABLES",
            "services.orders",
            service_module,
            "DEPLOYABLES",
        ),
        AddToLiteral(
            "tests/unit/test_metrics_endpoints.py",
            "PREFIXES",
            "services.orders",
            ', "services.$name": "${NAME}_"',
            "PREFIXES",
        ),
        AddToLiteral("tests/unit/devstack/test_topology.py", "APPS", "orders", ', "$name"', "APPS"),
        AddToLiteral(
            "tests/integration/test_make_run.py",
            "test_ctrl_c_stops_every_process",
            "services.orders",
            service_module,
            "the processes `make run` starts",
        ),
        # Imported under a suffixed name: the bare one could be a function of the test.
        InsertLines(
            MANIFESTS_TEST,
            "from services.orders import settings as orders",
            "from services.$name import settings as ${name}_settings\n",
            "the settings module",
        ),
        AddToLiteral(
            MANIFESTS_TEST, "MODULES", "ORDERS_", ', "${NAME}_": ${name}_settings', "MODULES"
        ),
        AddToLiteral(MANIFESTS_TEST, "PROCESSES", "orders", ', "$name"', "PROCESSES"),
        AddToLiteral(MANIFESTS_TEST, "PREFIXES", "orders", ', "$name": "${NAME}_"', "PREFIXES"),
        AddToLiteral(MANIFESTS_TEST, "APPS", "orders", ', "$k8s_name"', "APPS"),
        AddToLiteral(
            MANIFESTS_TEST,
            "ALLOWED_CALLS",
            ("orders", "postgres", 5432),
            ', ("bff-web", "$k8s_name", 8000), ("bff-mobile", "$k8s_name", 8000), '
            '("$k8s_name", "users", 8000), ("$k8s_name", "postgres", 5432)',
            "ALLOWED_CALLS",
        ),
        AddToLiteral(
            MANIFESTS_TEST,
            "test_every_deployable_autoscales_and_survives_a_drain",
            "orders",
            ', "$k8s_name"',
            "the autoscaled deployables",
        ),
        AddToLiteral(
            COMPOSE_TEST,
            "PROD_VARIABLES",
            "FRONTDOOR_ORDERS_DB_PASSWORD",
            ', "FRONTDOOR_${NAME}_DB_PASSWORD": "$test_password"',
            "PROD_VARIABLES",
        ),
        AddToLiteral(COMPOSE_TEST, "FRONTDOOR", "orders", ', "$name"', "FRONTDOOR"),
        AddToLiteral(COMPOSE_TEST, "PREFIXES", "orders", ', "$name": "${NAME}_"', "PREFIXES"),
        AddToLiteral(
            COMPOSE_TEST,
            "test_service_starts_only_after_its_migration_ran_on_the_same_database",
            "orders",
            ', "$name"',
            "the services that migrate first",
        ),
        AddToLiteral(
            COMPOSE_TEST,
            "test_production_file_leaves_no_dev_aid_on",
            "orders",
            ', "$name"',
            "the services on PostgreSQL",
        ),
    ]
    # That test reads one name as the module, the prefix and the Kubernetes name
    # alike, which only a name without an underscore can be.
    if service.k8s_name == service.name:
        edits.append(
            AddToLiteral(
                MANIFESTS_TEST,
                "test_a_service_migrates_in_an_init_container_on_its_own_database",
                "orders",
                ', "$name"',
                "the services that migrate in an init container",
            )
        )
    return edits


def edits(service: NewService) -> list[Edit]:
    return [*devstack(), *compose(), *kubernetes(service), *tests(service)]


def anchored_on_others(edit: Edit, others: Sequence[str]) -> list[Edit]:
    """The edit, and the same edit anchored on each of `others` (services scaffolded
    earlier, which stand after orders) instead: the plan takes the last that fits, so
    services line up in the order they were added."""
    variants = [edit]
    for other in others:
        for name in dict.fromkeys([other, other.replace("_", "-")]):
            variants.append(_anchored_on(edit, name, other.upper()))
    return variants


def _anchored_on(edit: Edit, name: str, upper: str) -> Edit:
    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(ANCHOR_SERVICE, name).replace(ANCHOR_SERVICE.upper(), upper)
        if isinstance(value, tuple):
            return tuple(swap(item) for item in value)
        return value

    # Only what the text goes after: a line that must contain `line` still must.
    if isinstance(edit, InsertLines):
        return dataclasses.replace(edit, anchor=swap(edit.anchor))
    if isinstance(edit, InsertInLine):
        return dataclasses.replace(edit, after=swap(edit.after))
    if isinstance(edit, AddToLiteral):
        return dataclasses.replace(edit, element=swap(edit.element))
    return edit
