"""Rate limits shared through a real Redis, and what happens when Redis goes away."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test
from tests.running_stack import free_port

pytestmark = pytest.mark.integration

SHARED_REDIS = "redis://127.0.0.1:6379/0"
SHARED_LIMIT = 40  # the "shared" policy in edge_routes.yaml


def require_redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; CI must have it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return path


@pytest.fixture(scope="module")
def two_edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    try:
        redis.Redis.from_url(SHARED_REDIS).ping()
    except redis.RedisError as exc:
        message = f"no Redis at {SHARED_REDIS} ({exc}); start one: redis-server --port 6379"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI has Redis: its absence is a failure, never a skip
        pytest.skip(message)
    with edge_under_test(
        tmp_path_factory.mktemp("two-edges"),
        edges=2,
        settings={"EDGE_RATE_LIMIT_REDIS_URL": SHARED_REDIS},
    ) as edge:
        yield edge


async def test_two_edges_share_one_limit_exactly_under_concurrent_load(
    two_edges: EdgeUnderTest,
) -> None:
    token = two_edges.token(f"shared-{uuid.uuid4().hex}")
    clients = [
        httpx.AsyncClient(
            base_url=f"https://localhost:{port}",
            verify=two_edges.certs.client_context(),
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=10,
        )
        for port in two_edges.edge_ports
    ]
    try:
        # Warm both edges (JWKS fetched, connections open) with another subject,
        # so that neither spends the whole quota while the other is still starting.
        warm = {"Authorization": f"Bearer {two_edges.token(f'warm-{uuid.uuid4().hex}')}"}
        for client in clients:
            assert (await client.get("/shared", headers=warm)).status_code == 200
        responses = await asyncio.gather(
            *(clients[i % 2].get("/shared") for i in range(SHARED_LIMIT * 2 + 20))
        )
    finally:
        for client in clients:
            await client.aclose()

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == SHARED_LIMIT
    assert statuses.count(429) == len(statuses) - SHARED_LIMIT
    served_by = {str(r.url.port) for r in responses if r.status_code == 200}
    assert len(served_by) == 2, "both edges must have let requests through"


class PrivateRedis:
    """A redis-server of this test's own, so that stopping it harms nobody else."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.port = free_port()
        self._command = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def edge_with_private_redis(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[EdgeUnderTest, PrivateRedis, str]]:
    server = PrivateRedis(require_redis_server(), tmp_path)
    server.start()
    mode: str = request.param
    try:
        with edge_under_test(
            tmp_path,
            settings={
                "EDGE_RATE_LIMIT_REDIS_URL": server.url,
                "EDGE_RATE_LIMIT_ON_REDIS_FAILURE": mode,
            },
        ) as edge:
            yield edge, server, mode
    finally:
        server.stop()


@pytest.mark.parametrize("edge_with_private_redis", ["open", "closed"], indirect=True)
def test_redis_stopped_mid_run_fails_as_configured_and_recovers(
    edge_with_private_redis: tuple[EdgeUnderTest, PrivateRedis, str],
) -> None:
    edge, server, mode = edge_with_private_redis
    headers = {"Authorization": f"Bearer {edge.token(f'outage-{uuid.uuid4().hex}')}"}
    with edge.client() as client:
        before = client.get("/limited", headers=headers)
        assert before.status_code == 200
        assert "ratelimit" in before.headers

        server.stop()
        started = time.monotonic()
        during = [client.get("/limited", headers=headers) for _ in range(3)]
        elapsed = time.monotonic() - started

        server.start()
        recovered = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            recovered = client.get("/limited", headers=headers)
            if "ratelimit" in recovered.headers:
                break
            time.sleep(0.2)
        metrics = client.get("/metrics").text

    expected = 200 if mode == "open" else 503
    assert [response.status_code for response in during] == [expected] * 3
    if mode == "closed":
        assert during[0].headers["content-type"] == "application/problem+json"
        assert int(during[0].headers["retry-after"]) >= 1
    # Decided within the limiter's short timeout, not after a hang.
    assert elapsed < 5
    assert recovered is not None and "ratelimit" in recovered.headers, "never recovered"
    assert f'decision="failed_{mode}"' in metrics


@pytest.mark.parametrize("edge_with_private_redis", ["local"], indirect=True)
def test_redis_stopped_mid_run_with_a_local_fallback_still_limits(
    edge_with_private_redis: tuple[EdgeUnderTest, PrivateRedis, str],
) -> None:
    edge, server, _ = edge_with_private_redis
    headers = {"Authorization": f"Bearer {edge.token(f'local-{uuid.uuid4().hex}')}"}
    with edge.client() as client:
        assert client.get("/limited", headers=headers).status_code == 200  # counted in Redis

        server.stop()
        # The policy allows 5 a minute: this process now counts on its own, from zero.
        during = [client.get("/limited", headers=headers).status_code for _ in range(6)]
        metrics = client.get("/metrics").text

    assert during == [200] * 5 + [429]
    assert 'decision="local_allowed"' in metrics
    assert 'decision="local_limited"' in metrics
