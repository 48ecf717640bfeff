"""The route file: YAML decoded and validated by msgspec into the edge's route table.

A mistake stops startup with a message naming the route and the field, e.g.
`infra/edge/routes.yaml: route "web" (routes[1]): timeout_s: Expected float, got str`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import msgspec.yaml

from edge.cors import CorsPolicy
from edge.rate_limits import FailureMode, RatePolicy
from edge.routing import HttpMethod, Name, Route, RouteSpec, RouteTable
from service_defaults.settings import ConfigError


class RateLimitSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1)]
    window_s: Annotated[float, msgspec.Meta(gt=0)]
    # Who shares one quota: the token's subject, or the client's address.
    key: Literal["subject", "client_address"] = "subject"
    # open, closed or local when Redis fails; unset: EDGE_RATE_LIMIT_ON_REDIS_FAILURE.
    on_redis_failure: FailureMode | None = None


class CorsSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    allow_origins: list[str]
    allow_methods: list[HttpMethod] = msgspec.field(default_factory=lambda: ["GET", "POST"])
    allow_headers: list[str] = msgspec.field(default_factory=list)
    expose_headers: list[str] = msgspec.field(default_factory=list)
    allow_credentials: bool = False
    max_age_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 600


class RouteFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    routes: list[RouteSpec]
    rate_limits: dict[Name, RateLimitSpec] = msgspec.field(default_factory=dict)
    cors: dict[Name, CorsSpec] = msgspec.field(default_factory=dict)


_ROUTE_AT = re.compile(r"\$\.routes\[(\d+)\]\.?(.*)")


def read_route_file(path: Path, upstreams: dict[str, str]) -> RouteFile:
    """Decode, validate, and check every cross-reference (upstreams, policies, CORS)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the route file: {exc.strerror}") from None
    try:
        spec = msgspec.yaml.decode(raw, type=RouteFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_locate(str(exc), raw)}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    problems = [
        f'route "{route.name}": {problem}'
        for route in spec.routes
        for problem in _route_problems(route, spec, upstreams)
    ]
    for name, cors in spec.cors.items():
        if cors.allow_credentials and "*" in cors.allow_origins:
            # A wildcard with credentials would let any site act as the signed-in user.
            problems.append(f'cors "{name}": allow_origins "*" cannot be combined with credentials')
    names = [route.name for route in spec.routes]
    problems += [
        f'route "{name}": the name is used twice' for name in set(names) if names.count(name) > 1
    ]
    matches = [(route.path.type, route.path.value.rstrip("/") or "/") for route in spec.routes]
    problems += [
        f'route "{route.name}": path: another route matches exactly the same paths'
        for route, match in zip(spec.routes, matches, strict=True)
        if matches.count(match) > 1
    ]
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(sorted(set(problems))))
    return spec


def _route_problems(route: RouteSpec, spec: RouteFile, upstreams: dict[str, str]) -> list[str]:
    problems = []
    if route.upstream not in upstreams:
        known = ", ".join(sorted(upstreams))
        problems.append(f"upstream: {route.upstream!r} is not one of EDGE_UPSTREAMS ({known})")
    if route.rate_limit is not None and route.rate_limit not in spec.rate_limits:
        problems.append(f"rate_limit: no policy named {route.rate_limit!r} in rate_limits")
    if route.cors is not None and route.cors not in spec.cors:
        problems.append(f"cors: no policy named {route.cors!r} in cors")
    if route.auth == "required" and not route.audiences:
        problems.append("audiences: a route that requires a token must accept some audience")
    if (
        route.rate_limit in spec.rate_limits
        and spec.rate_limits[route.rate_limit].key == "subject"
        and route.auth == "none"
    ):
        problems.append("rate_limit: a per-subject limit needs auth: required")
    return problems


def _locate(message: str, raw: bytes) -> str:
    """Turn msgspec's `$.routes[1].timeout_s` into the route's name and field."""
    text, _, where = message.partition(" - at `")
    match = _ROUTE_AT.match(where.rstrip("`"))
    if not match:
        return f"{where.rstrip('`').removeprefix('$.') or 'file'}: {text}"
    index, field = int(match[1]), match[2]
    try:
        routes = msgspec.yaml.decode(raw)["routes"]
        name = routes[index].get("name", "?")
    except (msgspec.DecodeError, KeyError, IndexError, TypeError, AttributeError):
        name = "?"
    return f'route "{name}" (routes[{index}]): {field or "route"}: {text}'


def build_route_table(spec: RouteFile, upstreams: dict[str, str]) -> RouteTable:
    policies = {
        name: RatePolicy(
            name=name,
            limit=p.limit,
            window_s=p.window_s,
            key=p.key,
            on_redis_failure=p.on_redis_failure,
        )
        for name, p in spec.rate_limits.items()
    }
    cors = {
        name: CorsPolicy(
            allow_origins=frozenset(c.allow_origins),
            allow_methods=frozenset(c.allow_methods),
            allow_headers=frozenset(h.lower() for h in c.allow_headers),
            expose_headers=tuple(c.expose_headers),
            allow_credentials=c.allow_credentials,
            max_age_s=c.max_age_s,
        )
        for name, c in spec.cors.items()
    }
    return RouteTable(
        Route.from_spec(
            route,
            upstream=upstreams[route.upstream],
            rate_limit=policies[route.rate_limit] if route.rate_limit else None,
            cors=cors[route.cors] if route.cors else None,
        )
        for route in spec.routes
    )


def load_route_table(path: Path, upstreams: dict[str, str]) -> RouteTable:
    return build_route_table(read_route_file(path, upstreams), upstreams)
