"""Replicas on one machine: two edges, two web BFFs and two orders processes on one
Redis and one PostgreSQL, the services started together on an empty database.

Each edge reaches its own web BFF, and each BFF its own orders process, so load spread
over the edges is spread over every replica. What the replicas share decides the
outcome: the rate limit is exact across edges (Redis), and idempotent creates retried
through different replicas make one order each (PostgreSQL's unique index).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from devstack.certs import DevCertificates, ensure_dev_certificates
from devstack.stack import Stack
from devstack.topology import DEFAULT_PORTS, ProcessSpec, Topology
from tests.databases import postgres_schema
from tests.integration.test_edge_redis_limits import SHARED_REDIS, require_shared_redis
from tests.running_stack import SECRETS, SHIPPED_ROUTES, free_port, log_entries

pytestmark = pytest.mark.integration

LOGIN_LIMIT = 30  # per client address; the window is long enough that none refill mid-test
LOGIN_ATTEMPTS = 90
ORDER_KEYS = 20  # distinct orders, each sent RETRIES times through alternating replicas
RETRIES = 3
DEMO_USERS = ("alice", "bob")
DEMO_ALICE_ORDERS = 4  # what services.orders seeds for her


@dataclasses.dataclass
class Replicas:
    stack: Stack
    edges: list[str]  # base URLs
    certs: DevCertificates
    tokens: dict[str, str]  # demo username -> token, each issued once: logins spend the limit

    def client(self, edge: str, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=edge,
            verify=self.certs.client_context(),
            trust_env=False,
            timeout=30,
            limits=httpx.Limits(max_connections=100),
            **kwargs,
        )


def route_file(directory: Path, login_policy: str) -> Path:
    """The shipped routes, the login limit under a name of this run's own (its Redis key
    then starts empty), the API's roomy enough for the load below."""
    spec = yaml.safe_load(SHIPPED_ROUTES.read_text())
    limits = spec["rate_limits"]
    limits[login_policy] = limits.pop("login") | {"limit": LOGIN_LIMIT, "window_s": 3600}
    limits["api"] |= {"limit": 100_000}
    for route in spec["routes"]:
        if route.get("rate_limit") == "login":
            route["rate_limit"] = login_policy
    path = directory / "routes.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def replica(spec: ProcessSpec, prefix: str, port: int, **env: str) -> ProcessSpec:
    """A second process of `spec`'s kind on `port`, its other settings changed by `env`."""
    scheme = "https://localhost" if spec.name == "edge" else "http://127.0.0.1"
    return dataclasses.replace(
        spec,
        name=f"{spec.name}_b",
        env={**spec.env, f"{prefix}PORT": str(port), **env},
        ready_url=f"{scheme}:{port}/readyz",
    )


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Replicas]:
    require_shared_redis()
    state = tmp_path_factory.mktemp("replicas")
    login_policy = f"login_{uuid.uuid4().hex[:8]}"
    with (
        postgres_schema(postgres_url, "users") as users_database,
        postgres_schema(postgres_url, "orders") as orders_database,
    ):
        certs = ensure_dev_certificates(state / "certs")
        topology = Topology(
            ports={name: free_port() for name in DEFAULT_PORTS},
            state_dir=state,
            certs=certs,
            overrides={
                "edge": {
                    "EDGE_ROUTES_FILE": str(route_file(state, login_policy)),
                    "EDGE_RATE_LIMIT_REDIS_URL": SHARED_REDIS,
                },
                "users": {"USERS_DATABASE_URL": users_database},
                "orders": {"ORDERS_DATABASE_URL": orders_database},
            },
        )
        specs = {spec.name: spec for spec in topology.specs()}
        ports = {name: free_port() for name in ("edge", "bff_web", "orders")}
        upstreams = json.loads(specs["edge"].env["EDGE_UPSTREAMS"])
        upstreams["bff_web"] = f"http://127.0.0.1:{ports['bff_web']}"
        second = [
            replica(specs["edge"], "EDGE_", ports["edge"], EDGE_UPSTREAMS=json.dumps(upstreams)),
            replica(
                specs["bff_web"],
                "BFF_WEB_",
                ports["bff_web"],
                BFF_WEB_ORDERS_URL=f"http://127.0.0.1:{ports['orders']}",
            ),
            replica(specs["orders"], "ORDERS_", ports["orders"]),
        ]
        # Both orders processes (and users) migrate and seed the one empty database at once.
        stack = Stack([*specs.values(), *second], tls=certs.client_context(), echo=False)
        try:
            stack.start()
            edges = [topology.edge_url, f"https://localhost:{ports['edge']}"]
            tokens = {name: login(edges[i], certs, name) for i, name in enumerate(DEMO_USERS)}
            yield Replicas(stack=stack, edges=edges, certs=certs, tokens=tokens)
        finally:
            stack.stop()
            assert not SECRETS.leaks(stack.processes)


def login(edge: str, certs: DevCertificates, username: str) -> str:
    with httpx.Client(base_url=edge, verify=certs.client_context(), trust_env=False) as client:
        password = SECRETS.add(username)  # the demo users' passwords are their names
        response = client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    SECRETS.add(f"Bearer {token}")
    return SECRETS.add(token)


async def all_orders(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/web/orders", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        if not (cursor := page["next_cursor"]):
            return found


def bearer(replicas: Replicas, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {replicas.tokens[username]}"}


def order_body(key: int) -> dict[str, Any]:
    item = {"sku": f"R-{key}", "name": "Replica", "quantity": 1, "unit_price_minor": 100 + key}
    return {"currency": "EUR", "items": [item]}


async def test_services_started_together_on_one_empty_schema_seed_it_once(
    replicas: Replicas,
) -> None:
    # alice never orders in these tests: what she has is what seeding wrote.
    async with replicas.client(replicas.edges[1], headers=bearer(replicas, "alice")) as client:
        orders = await all_orders(client)

    assert len(orders) == DEMO_ALICE_ORDERS, orders
    assert len({order["id"] for order in orders}) == DEMO_ALICE_ORDERS
    assert all(order["item_count"] > 0 for order in orders), orders
    running = replicas.stack.processes
    assert [name for name in running if running[name].popen.poll() is not None] == []


async def test_idempotent_creates_retried_across_replicas_make_one_order_each(
    replicas: Replicas,
) -> None:
    run = uuid.uuid4().hex[:8]
    clients = [replicas.client(edge, headers=bearer(replicas, "bob")) for edge in replicas.edges]
    async with clients[0], clients[1]:
        before = {order["id"] for order in await all_orders(clients[0])}
        sends = [(key, attempt) for attempt in range(RETRIES) for key in range(ORDER_KEYS)]
        # Every attempt in flight at once; a key's attempts go through different edges.
        responses = await asyncio.gather(
            *(
                clients[(key + attempt) % 2].post(
                    "/api/web/orders",
                    json=order_body(key),
                    headers={"Idempotency-Key": f"{run}-{key}"},
                )
                for key, attempt in sends
            )
        )
        after = await all_orders(clients[1])

    assert Counter(r.status_code for r in responses) == {201: ORDER_KEYS * RETRIES}
    by_key: dict[int, set[str]] = {}
    fresh: Counter[int] = Counter()
    for (key, _), response in zip(sends, responses, strict=True):
        by_key.setdefault(key, set()).add(response.json()["id"])
        fresh[key] += response.headers.get("idempotent-replayed") != "true"
    # Each key: one order, created by exactly one attempt and replayed to the others.
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    assert fresh == dict.fromkeys(range(ORDER_KEYS), 1)
    created = {order["id"] for order in after} - before
    assert created == set().union(*by_key.values())
    # Both orders replicas did part of the work.
    for name in ("orders", "orders_b"):
        posts = [
            e for e in log_entries(replicas.stack.processes[name]) if e.get("method") == "POST"
        ]
        assert posts, f"{name} served no create"


async def test_login_limit_is_exact_across_both_edges_under_concurrent_load(
    replicas: Replicas,
) -> None:
    clients = [replicas.client(edge) for edge in replicas.edges]
    wrong = SECRETS.add("not-the-password")
    async with clients[0], clients[1]:
        # Every attempt a wrong password (cheap to refuse) from one address, split over the edges.
        responses = await asyncio.gather(
            *(
                client.post("/auth/token", json={"username": "alice", "password": wrong})
                for client, _ in zip(itertools.cycle(clients), range(LOGIN_ATTEMPTS), strict=False)
            )
        )

    statuses = Counter(r.status_code for r in responses)
    # The fixture's logins spent part of the same limit.
    allowed = LOGIN_LIMIT - len(DEMO_USERS)
    assert statuses == {401: allowed, 429: LOGIN_ATTEMPTS - allowed}
    for edge in ("edge", "edge_b"):
        refused = [
            e
            for e in log_entries(replicas.stack.processes[edge])
            if e.get("path") == "/auth/token" and e.get("status") == 429
        ]
        assert refused, f"{edge} refused nothing: the limit was not shared"
