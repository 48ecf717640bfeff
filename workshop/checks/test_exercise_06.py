"""Exercise 6: two edge replicas, given the settings of docs/workshop/settings/06-edge.env, share
one rate limit: together they let exactly the policy's limit through.

The edge's test harness starts both edges in front of its echo backend, with the
copy's route file and the file's settings, on the real Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
import redis

from edge.settings import Settings, load_settings
from service_defaults.settings import ConfigError
from tests.integration.edge_harness import EdgeUnderTest, edge_under_test
from workshop.checks.route_files import load_copy_routes, route_file_for_harness, route_for
from workshop.checks.settings_files import not_settings_of, read_settings_file
from workshop.checks.verdicts import copy_file, fail, require

SETTINGS_FILE = "docs/workshop/settings/06-edge.env"
PREFIX = "EDGE_"
# The harness sets everything else; the exercise is about the limiter.
OWN_PREFIX = "EDGE_RATE_LIMIT_"
REDIS = "redis://127.0.0.1:6379/0"
DASHBOARD = "/api/web/dashboard"
# Requests beyond the limit: with each edge counting on its own, some get through.
BEYOND = 20
DOCS = "docs/edge.md, 'Rate limits'; docs/production.md, 'What each replica shares'"


def file_settings() -> dict[str, str]:
    values = read_settings_file(copy_file(SETTINGS_FILE))
    ignored = not_settings_of(values, Settings, PREFIX)
    require(
        not ignored,
        f"{', '.join(ignored)} in {SETTINGS_FILE}: the edge would ignore it. Its settings are "
        f"the fields of Settings in edge/settings.py, with the prefix {PREFIX}.",
    )
    foreign = [name for name in values if not name.startswith(OWN_PREFIX)]
    require(
        not foreign,
        f"{', '.join(foreign)} in {SETTINGS_FILE}: only the rate-limit settings ({OWN_PREFIX}*) "
        "belong there; the check starts the edges with everything else set.",
    )
    try:
        load_settings({"EDGE_TLS_CERTFILE": "-", "EDGE_TLS_KEYFILE": "-", **values})
    except (ConfigError, ValueError) as exc:
        fail(f"The edge would refuse to start with {SETTINGS_FILE}: {exc}")
    return values


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS, socket_timeout=1.0).ping()
    except redis.RedisError as exc:
        message = f"no Redis at {REDIS} ({exc}); start one: redis-server --port 6379"
        if os.environ.get("CI") == "true":
            fail(message)  # CI has Redis: its absence is a failure there, never a skip
        pytest.skip(message)


async def spread_over(edges: EdgeUnderTest, count: int, token: str) -> list[int]:
    """`count` dashboard requests of one user, all in flight at once, alternating between edges."""
    async with edges.signed_in_clients(token) as clients:
        answers = await asyncio.gather(
            *(clients[i % len(clients)].get(DASHBOARD) for i in range(count))
        )
    return [answer.status_code for answer in answers]


def test_the_settings_file_holds_only_rate_limit_settings_of_the_edge() -> None:
    file_settings()


@pytest.mark.integration
async def test_two_edges_let_through_exactly_the_limit_between_them(tmp_path: Path) -> None:
    settings = file_settings()
    policy = route_for(load_copy_routes(), DASHBOARD).rate_limit
    if policy is None:
        fail(f"No rate limit applies to {DASHBOARD} in infra/edge/routes.yaml: nothing to share.")
    require_redis()
    routes = route_file_for_harness(tmp_path)
    with edge_under_test(
        tmp_path, edges=2, settings={**settings, "EDGE_ROUTES_FILE": str(routes)}
    ) as edges:
        # A new user each run: Redis keeps what earlier runs spent.
        token = edges.token(f"replicas-{uuid.uuid4().hex}")
        statuses = await spread_over(edges, policy.limit + BEYOND, token)
    allowed, refused = statuses.count(200), statuses.count(429)
    require(
        allowed + refused == len(statuses),
        f"Besides 200 and 429 the edges answered {sorted(set(statuses) - {200, 429})}.",
    )
    why = (
        "the file names a Redis, but can this machine reach it at that address? An edge whose "
        "Redis does not answer decides as the policy's on_redis_failure says (open: lets all in)"
        if "EDGE_RATE_LIMIT_REDIS_URL" in settings
        else "each edge counts in its own memory, so together they allow up to twice the limit"
    )
    require(
        allowed == policy.limit,
        f"Two edges let {allowed} of {len(statuses)} requests of one user through, where the "
        f"{policy.name!r} policy allows {policy.limit}: {why}. Make them count in one place "
        f"({DOCS}).",
    )
