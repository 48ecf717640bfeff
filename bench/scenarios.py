"""What each scenario starts and loads: the edge's environment and route file live here.

When the edge's settings change, this is the one module to adapt: `edge_environments`
holds every variable each edge process gets, and `ROUTE_FILE` the routes it serves.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.tokens import AUDIENCE, ISSUER
from devstack.certs import DevCertificates

REDIS_URL = "redis://127.0.0.1:6379/0"
PATH_PASS = "/auth/bench"  # no token needed
PATH_JWT = "/api/web/bench"  # bearer token required, rate-limited
LABELS = {
    "direct": "a direct to backend (HTTP)",
    "direct-tls": "a' direct to backend (TLS)",
    "edge-pass": "b edge pass-through (TLS)",
    "edge-jwt-mem": "c edge JWT + memory limiter (TLS)",
    "edge-jwt-redis": "d edge JWT + Redis limiter (TLS)",
    "edge-jwt-traced": "c' c with every request traced (OTLP)",
    "nginx": "e nginx, 1 worker (TLS)",
    "bare": "f bare Litestar + aiohttp proxy (TLS)",
    "bare-httptools": "g bare uvloop + httptools proxy (TLS)",
}

# For EDGE_ROUTES_FILE (JSON is YAML too). The limit is far above any rate reached
# here: the limiter decides on every request of route "web" and never refuses.
ROUTE_FILE = {
    "rate_limits": {"bench": {"limit": 1_000_000, "window_s": 1.0, "key": "subject"}},
    "routes": [
        {"name": "pass", "path": {"value": "/auth"}, "upstream": "users", "auth": "none"},
        {
            "name": "web",
            "path": {"value": "/api/web"},
            "upstream": "bff_web",
            "audiences": [AUDIENCE],
            "rate_limit": "bench",
        },
    ],
}


def edge_environments(
    backend: str, certs: DevCertificates, routes_file: Path
) -> dict[str, dict[str, str]]:
    """=== THE EDGE'S ENVIRONMENT PER SCENARIO: adapt here when edge/settings.py changes. ==="""
    common = {
        "EDGE_ENVIRONMENT": "dev",
        "EDGE_HOST": "127.0.0.1",
        "EDGE_TLS_CERTFILE": str(certs.cert_file),
        "EDGE_TLS_KEYFILE": str(certs.key_file),
        "EDGE_JWKS_URL": f"{backend}/.well-known/jwks.json",
        "EDGE_TOKEN_ISSUER": ISSUER,
        "EDGE_TOKEN_AUDIENCE": AUDIENCE,
        "EDGE_ROUTES_FILE": str(routes_file),
        "EDGE_UPSTREAMS": json.dumps({"users": backend, "bff_web": backend, "bff_mobile": backend}),
    }
    return {
        "edge-pass": common,
        "edge-jwt-mem": common,  # no Redis URL: the in-memory limiter
        "edge-jwt-redis": {**common, "EDGE_RATE_LIMIT_REDIS_URL": REDIS_URL},
        # Every request sampled and exported (the SDK's default sampler), to the
        # backend's OTLP sink: the whole cost of tracing at the edge, worst case.
        "edge-jwt-traced": {
            **common,
            "OTEL_EXPORTER_OTLP_ENDPOINT": backend,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        },
    }


@dataclass(frozen=True)
class Scenario:
    key: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()  # the proxy process in front of the backend; none for direct
    env: dict[str, str] | None = None  # None: this process's environment
    ready_url: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key]


def edge_scenario(key: str, port: int, env: dict[str, str], token: str) -> Scenario:
    base = f"https://127.0.0.1:{port}"
    jwt = key != "edge-pass"
    return Scenario(
        key,
        base + (PATH_JWT if jwt else PATH_PASS),
        headers={"Authorization": f"Bearer {token}"} if jwt else {},
        argv=(sys.executable, "-m", "edge"),
        env={**env, "EDGE_PORT": str(port)},
        ready_url=f"{base}/readyz",
    )


def write_route_file(directory: Path) -> Path:
    path = directory / "routes.yaml"
    path.write_text(json.dumps(ROUTE_FILE, indent=2))
    return path
