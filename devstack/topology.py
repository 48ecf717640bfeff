"""Which processes make up the stack, on which addresses, wired to each other by settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from devstack.certs import DevCertificates

# The trace store first: every other process exports its spans to it.
DEFAULT_PORTS = {
    "trace_store": 8301,
    "edge": 8443,
    "bff_web": 8101,
    "bff_mobile": 8102,
    "users": 8201,
    "orders": 8202,
}
ENV_PREFIX = {
    "trace_store": "TRACE_STORE_",
    "edge": "EDGE_",
    "bff_web": "BFF_WEB_",
    "bff_mobile": "BFF_MOBILE_",
    "users": "USERS_",
    "orders": "ORDERS_",
}
MODULES = {
    "trace_store": "devstack.trace_store",
    "edge": "edge",
    "bff_web": "bff_web",
    "bff_mobile": "bff_mobile",
    "users": "services.users",
    "orders": "services.orders",
}
# The processes that own a database, migrated before they start.
DATABASES = ("users", "orders")
TIMELINE_PATH = "/_dev/requests"
# Spans leave each process in batches; a short wait keeps the timeline current
# a moment after the response (the SDK's default is 5 s).
BATCH_DELAY_MS = "200"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    module: str
    env: Mapping[str, str]
    ready_url: str
    # A one-shot run of the same module that must succeed before the server starts,
    # as an init container does in Kubernetes: the services' `migrate`.
    first: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    ports: Mapping[str, int]
    state_dir: Path
    certs: DevCertificates
    host: str = "127.0.0.1"
    # Extra settings per process name, e.g. {"orders": {"ORDERS_DEV_RESPONSE_DELAY_MS": "200"}}.
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The user's own OTLP receiver (a collector, Jaeger), which the trace store forwards to.
    forward_traces_to: str = ""

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], state_dir: Path, certs: DevCertificates
    ) -> Topology:
        """Default ports, each overridable the way the process itself reads it (`USERS_PORT`...).

        Any other setting the user exported (`ORDERS_DEV_RESPONSE_DELAY_MS=300 make run`)
        wins over the stack's own. An OTLP endpoint the user exported gets every span
        still, through the trace store, which the processes export to instead.
        """
        ports = {
            name: int(environ.get(f"{ENV_PREFIX[name]}PORT", port))
            for name, port in DEFAULT_PORTS.items()
        }
        overrides = {
            name: {key: value for key, value in environ.items() if key.startswith(prefix)}
            for name, prefix in ENV_PREFIX.items()
        }
        return cls(
            ports=ports,
            state_dir=state_dir,
            certs=certs,
            overrides=overrides,
            forward_traces_to=_user_traces_endpoint(environ),
        )

    @property
    def edge_url(self) -> str:
        return f"https://localhost:{self.ports['edge']}"

    @property
    def timeline_url(self) -> str:
        return f"{self.edge_url}{TIMELINE_PATH}"

    def internal_url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def _telemetry(self, name: str) -> dict[str, str]:
        """Standard OTEL_* variables: they win over any the user exported, which
        would otherwise name all five processes alike or send spans past the store."""
        store = self.internal_url("trace_store")
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": store,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{store}/v1/traces",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": name,
            "OTEL_BSP_SCHEDULE_DELAY": BATCH_DELAY_MS,
        }

    def _trace_store_env(self) -> dict[str, str]:
        prefix = ENV_PREFIX["trace_store"]
        env = {f"{prefix}HOST": self.host, f"{prefix}PORT": str(self.ports["trace_store"])}
        forward = self.forward_traces_to
        if forward and urlsplit(forward).netloc not in _own_addresses(self.ports["trace_store"]):
            env[f"{prefix}FORWARD_TRACES_TO"] = forward
        # The store is not traced: spans about receiving spans would feed themselves.
        env["OTEL_SDK_DISABLED"] = "true"
        return env | dict(self.overrides.get("trace_store", {}))

    def specs(self) -> list[ProcessSpec]:
        jwks_url = f"{self.internal_url('users')}/.well-known/jwks.json"
        token = {"TOKEN_ISSUER": f"{self.edge_url}/auth", "TOKEN_AUDIENCE": "frontdoor"}
        settings: dict[str, dict[str, str]] = {
            "users": {
                **token,
                "DATABASE_URL": f"sqlite:///{self.state_dir}/users.db",
                "SIGNING_KEYS_PATH": str(self.state_dir / "signing-keys.json"),
                "SEED_DEMO_USERS": "true",
            },
            "orders": {
                **token,
                "DATABASE_URL": f"sqlite:///{self.state_dir}/orders.db",
                "JWKS_URL": jwks_url,
                "SEED_DEMO_DATA": "true",
            },
            "bff_web": {
                "USERS_URL": self.internal_url("users"),
                "ORDERS_URL": self.internal_url("orders"),
            },
            "bff_mobile": {
                "USERS_URL": self.internal_url("users"),
                "ORDERS_URL": self.internal_url("orders"),
            },
            "edge": {
                # The edge takes its audiences per route, from the route file.
                "TOKEN_ISSUER": token["TOKEN_ISSUER"],
                "DEV_TRACE_STORE_URL": self.internal_url("trace_store"),
                "JWKS_URL": jwks_url,
                "TLS_CERTFILE": str(self.certs.cert_file),
                "TLS_KEYFILE": str(self.certs.key_file),
                "UPSTREAMS": json.dumps(
                    {name: self.internal_url(name) for name in ("users", "bff_web", "bff_mobile")}
                ),
            },
        }
        store = self.internal_url("trace_store")
        specs = [
            ProcessSpec(
                "trace_store", MODULES["trace_store"], self._trace_store_env(), f"{store}/readyz"
            )
        ]
        for name, values in settings.items():
            prefix = ENV_PREFIX[name]
            env = {f"{prefix}{key}": value for key, value in values.items()}
            env |= {f"{prefix}HOST": self.host, f"{prefix}PORT": str(self.ports[name])}
            env[f"{prefix}ENVIRONMENT"] = "dev"
            env |= self._telemetry(name)
            env |= self.overrides.get(name, {})
            ready = self.edge_url if name == "edge" else self.internal_url(name)
            first = ("migrate",) if name in DATABASES else ()
            specs.append(ProcessSpec(name, MODULES[name], env, f"{ready}/readyz", first))
        return specs


def _user_traces_endpoint(environ: Mapping[str, str]) -> str:
    """Where the user's exporters would have sent spans, read as the OTLP exporter reads it."""
    if traces := environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
        return traces
    if base := environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return f"{base.rstrip('/')}/v1/traces"
    return ""


def _own_addresses(port: int) -> set[str]:
    return {f"{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]")}
