"""Settings of the edge, from `EDGE_*` environment variables (lists and maps as JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from edge.redis_connection import check_redis_url
from service_defaults.metrics import LOOPBACK_NETWORKS, check_networks
from service_defaults.settings import ConfigError, refuse_outside_dev
from service_defaults.settings import load_settings as load_prefixed

# Headers that would let a client choose who a BFF or service thinks it is, or
# talk to internal machinery: the spellings identity-aware proxies and frameworks
# use (oauth2-proxy, Kong, Envoy, Pomerium, Apache's REMOTE_USER). Stripped from
# every request before forwarding; a trailing "*" matches a prefix. Names are
# compared case-insensitively. The headers the edge writes itself (forwarding,
# request id, budget) are never taken from a client, whatever this list says.
DEFAULT_STRIPPED_HEADERS = [
    "x-user*",  # x-user, x-user-id, x-user-email, x-user-sub, x-username, x-userinfo
    "x-auth-*",  # x-auth-user, x-auth-request-user, ...
    "x-authenticated-*",
    "x-subject",
    "x-sub",
    "x-principal",
    "x-identity",
    "x-email",
    "x-groups",
    "x-roles",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-preferred-username",
    "x-forwarded-groups",
    "x-forwarded-access-token",
    "x-forwarded-id-token",
    "x-remote-user",
    "remote-user",
    "x-jwt-*",
    "x-consumer-*",
    "x-internal-*",
    "x-frontdoor-*",
]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # The edge never speaks plain HTTP: the certificate and key are required.
    tls_certfile: str
    tls_keyfile: str
    host: str = "127.0.0.1"
    port: int = 8443
    environment: Literal["dev", "production"] = "production"
    routes_file: str = "infra/edge/routes.yaml"
    # Upstream names used by the route file, and their internal addresses.
    upstreams: dict[str, str] = msgspec.field(
        default_factory=lambda: {
            "users": "http://127.0.0.1:8201",
            "bff_web": "http://127.0.0.1:8101",
            "bff_mobile": "http://127.0.0.1:8102",
        }
    )
    jwks_url: str = "http://127.0.0.1:8201/.well-known/jwks.json"
    token_issuer: str = "https://localhost:8443/auth"
    token_leeway_s: Annotated[float, msgspec.Meta(ge=0, le=120)] = 30.0
    token_algorithms: list[Literal["ES256", "ES384", "RS256", "PS256", "EdDSA"]] = msgspec.field(
        default_factory=lambda: ["ES256", "RS256"]
    )
    # Rate limits live in this process unless a Redis URL is given; then every
    # edge process shares them.
    rate_limit_redis_url: str = ""
    rate_limit_redis_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=5)] = 0.1
    # What to do when Redis cannot answer, for policies that do not say: "open" lets
    # requests through, "closed" refuses them with 503, "local" counts them in this
    # process instead (exact per replica). Whichever, it is logged and counted.
    rate_limit_on_redis_failure: Literal["open", "closed", "local"] = "open"
    # Peers whose X-Forwarded-For is believed (a load balancer in front of the edge).
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    stripped_headers: list[str] = msgspec.field(default_factory=lambda: DEFAULT_STRIPPED_HEADERS)
    max_header_bytes: Annotated[int, msgspec.Meta(ge=1024, le=65536)] = 16 * 1024
    # More fields than this is a 431, however small each is (nginx and Envoy: 100).
    max_header_fields: Annotated[int, msgspec.Meta(ge=16, le=1000)] = 100
    # How long fetched signing keys are trusted without asking again, and the least
    # time between two fetches that an unknown key id may cause (a flood of made-up
    # key ids must not become a flood of JWKS fetches).
    jwks_cache_ttl_s: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 300.0
    jwks_refetch_floor_s: Annotated[float, msgspec.Meta(ge=0, le=3_600)] = 10.0
    hsts_max_age_s: Annotated[int, msgspec.Meta(ge=0)] = 31_536_000
    # Who may read /metrics; everyone else gets a 404 as if it did not exist.
    metrics_allowed_from: list[str] = msgspec.field(default_factory=lambda: [*LOOPBACK_NETWORKS])
    # The dev stack's trace store; when set, /_dev/requests shows each request's
    # timeline. Dev mode only: the pages show every caller's requests to anyone.
    dev_trace_store_url: str = ""

    def __post_init__(self) -> None:
        refuse_outside_dev(self, "EDGE_", "dev_trace_store_url")
        check_networks("EDGE_TRUSTED_PROXIES", self.trusted_proxies)
        check_networks("EDGE_METRICS_ALLOWED_FROM", self.metrics_allowed_from)
        check_redis_url("EDGE_RATE_LIMIT_REDIS_URL", self.rate_limit_redis_url)
        if self.jwks_refetch_floor_s > self.jwks_cache_ttl_s:
            raise ConfigError(
                "EDGE_JWKS_REFETCH_FLOOR_S: must not exceed EDGE_JWKS_CACHE_TTL_S "
                f"({self.jwks_cache_ttl_s:g} s)"
            )


def load_settings(environ: Mapping[str, str]) -> Settings:
    return load_prefixed(Settings, "EDGE_", environ)
