"""Which processes make up the stack, on which addresses, wired to each other by settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.certs import DevCertificates

DEFAULT_PORTS = {"edge": 8443, "bff_web": 8101, "bff_mobile": 8102, "users": 8201, "orders": 8202}
ENV_PREFIX = {
    "edge": "EDGE_",
    "bff_web": "BFF_WEB_",
    "bff_mobile": "BFF_MOBILE_",
    "users": "USERS_",
    "orders": "ORDERS_",
}
MODULES = {
    "edge": "edge",
    "bff_web": "bff_web",
    "bff_mobile": "bff_mobile",
    "users": "services.users",
    "orders": "services.orders",
}


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    module: str
    env: Mapping[str, str]
    ready_url: str


@dataclass(frozen=True)
class Topology:
    ports: Mapping[str, int]
    state_dir: Path
    certs: DevCertificates
    host: str = "127.0.0.1"
    # Extra settings per process name, e.g. {"orders": {"ORDERS_DEV_RESPONSE_DELAY_MS": "200"}}.
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], state_dir: Path, certs: DevCertificates
    ) -> Topology:
        """Default ports, each overridable the way the process itself reads it (`USERS_PORT`...).

        Any other setting the user exported (`ORDERS_DEV_RESPONSE_DELAY_MS=300 make run`)
        wins over the stack's own.
        """
        ports = {
            name: int(environ.get(f"{ENV_PREFIX[name]}PORT", port))
            for name, port in DEFAULT_PORTS.items()
        }
        overrides = {
            name: {key: value for key, value in environ.items() if key.startswith(prefix)}
            for name, prefix in ENV_PREFIX.items()
        }
        return cls(ports=ports, state_dir=state_dir, certs=certs, overrides=overrides)

    @property
    def edge_url(self) -> str:
        return f"https://localhost:{self.ports['edge']}"

    def internal_url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

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
                "JWKS_URL": jwks_url,
                "TLS_CERTFILE": str(self.certs.cert_file),
                "TLS_KEYFILE": str(self.certs.key_file),
                "UPSTREAMS": json.dumps(
                    {name: self.internal_url(name) for name in ("users", "bff_web", "bff_mobile")}
                ),
            },
        }
        specs = []
        for name, values in settings.items():
            prefix = ENV_PREFIX[name]
            env = {f"{prefix}{key}": value for key, value in values.items()}
            env |= {f"{prefix}HOST": self.host, f"{prefix}PORT": str(self.ports[name])}
            env[f"{prefix}ENVIRONMENT"] = "dev"
            env |= self.overrides.get(name, {})
            ready = self.edge_url if name == "edge" else self.internal_url(name)
            specs.append(ProcessSpec(name, MODULES[name], env, f"{ready}/readyz"))
        return specs
