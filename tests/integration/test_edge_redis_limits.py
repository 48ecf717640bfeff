"""Rate limits shared through a real Redis, and what happens when Redis goes away."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from devstack.certs import DevCertificates, ensure_dev_certificates
from edge.rate_limits import Decision, RatePolicy, RedisLimiter
from edge.redis_gcra import GCRA_SHA1
from tests.integration.edge_harness import EdgeUnderTest, edge_under_test
from tests.running_stack import free_port

pytestmark = pytest.mark.integration

SHARED_REDIS = "redis://127.0.0.1:6379/0"
SHARED_LIMIT = 40  # the "shared" policy in edge_routes.yaml
CONCURRENT_REQUESTS = 200


def require_redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; CI must have it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return path


def require_shared_redis() -> None:
    try:
        redis.Redis.from_url(SHARED_REDIS).ping()
    except redis.RedisError as exc:
        message = f"no Redis at {SHARED_REDIS} ({exc}); start one: redis-server --port 6379"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI has Redis: its absence is a failure, never a skip
        pytest.skip(message)


@pytest.fixture(scope="module")
def two_edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    require_shared_redis()
    with edge_under_test(
        tmp_path_factory.mktemp("two-edges"),
        edges=2,
        settings={"EDGE_RATE_LIMIT_REDIS_URL": SHARED_REDIS},
    ) as edge:
        yield edge


async def decide_together(
    limiters: list[RedisLimiter], policy: RatePolicy, key: str, count: int
) -> list[Decision]:
    """`count` decisions on one key, all in flight at once, spread over `limiters`."""
    return await asyncio.gather(
        *(limiters[i % len(limiters)].decide(key, policy) for i in range(count))
    )


async def test_two_edges_share_one_limit_exactly_under_concurrent_load(
    two_edges: EdgeUnderTest,
) -> None:
    token = two_edges.token(f"shared-{uuid.uuid4().hex}")
    async with two_edges.signed_in_clients(token) as clients:
        # Warm both edges (JWKS fetched, connections open) with another subject,
        # so that neither spends the whole quota while the other is still starting.
        warm = {"Authorization": f"Bearer {two_edges.token(f'warm-{uuid.uuid4().hex}')}"}
        for client in clients:
            assert (await client.get("/shared", headers=warm)).status_code == 200
        responses = await asyncio.gather(
            *(clients[i % 2].get("/shared") for i in range(CONCURRENT_REQUESTS))
        )

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == SHARED_LIMIT
    assert statuses.count(429) == len(statuses) - SHARED_LIMIT
    served_by = {str(r.url.port) for r in responses if r.status_code == 200}
    assert len(served_by) == 2, "both edges must have let requests through"


class PrivateRedis:
    """A redis-server of this test's own, so that stopping it harms nobody else."""

    def __init__(
        self,
        binary: str,
        directory: Path,
        *,
        password: str | None = None,
        tls: DevCertificates | None = None,
    ) -> None:
        self.port = free_port()
        self._password = password
        self._tls = tls
        self._command = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._command += ["--dir", str(directory)]
        if password is not None:
            self._command += ["--requirepass", password]
        if tls is None:
            self._command += ["--port", str(self.port)]
        else:
            self._command += ["--port", "0", "--tls-port", str(self.port)]
            self._command += ["--tls-cert-file", str(tls.cert_file)]
            self._command += ["--tls-key-file", str(tls.key_file)]
            self._command += ["--tls-ca-cert-file", str(tls.ca_file), "--tls-auth-clients", "no"]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self._tls is not None:
            return f"rediss://localhost:{self.port}/0"
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, db: int = 0) -> redis.Redis:
        if self._tls is not None:
            return redis.Redis(
                host="localhost", port=self.port, ssl=True, ssl_ca_certs=str(self._tls.ca_file)
            )
        return redis.Redis(port=self.port, db=db, password=self._password)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with self.client() as client:
                    client.ping()
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
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(require_redis_server(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


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


async def test_200_pipelined_decisions_over_two_connections_allow_exactly_the_limit() -> None:
    require_shared_redis()
    policy = RatePolicy(name="exact", limit=50, window_s=600)
    limiters = [RedisLimiter(SHARED_REDIS, timeout_s=2.0) for _ in range(2)]
    try:
        decisions = await decide_together(limiters, policy, f"sub:{uuid.uuid4().hex}", 200)
    finally:
        for limiter in limiters:
            await limiter.close()

    assert not any(d.degraded for d in decisions)
    assert sum(d.allowed for d in decisions) == policy.limit
    # Each allowed decision saw the count just before its own: every remaining once.
    remaining = sorted(d.remaining for d in decisions if d.allowed)
    assert remaining == list(range(policy.limit))


async def test_one_script_call_decides_each_key_in_turn_under_its_own_policy(
    private_redis: PrivateRedis,
) -> None:
    single = RatePolicy(name="single", limit=1, window_s=600)
    pair = RatePolicy(name="pair", limit=2, window_s=600)
    limiter = RedisLimiter(private_redis.url, timeout_s=2.0)
    try:
        # Asked for in one tick: one batch, the same key twice under each policy.
        decisions = await asyncio.gather(
            limiter.decide("sub:alice", single),
            limiter.decide("sub:alice", pair),
            limiter.decide("sub:alice", single),
            limiter.decide("sub:alice", pair),
            limiter.decide("sub:alice", pair),
        )
    finally:
        await limiter.close()
    with private_redis.client() as client:
        calls = client.info("commandstats")["cmdstat_evalsha"]["calls"]

    assert not any(d.degraded for d in decisions)
    assert [d.allowed for d in decisions] == [True, True, False, True, False]
    assert [d.remaining for d in decisions] == [0, 1, 0, 0, 0]
    assert calls == 1


async def test_a_flushed_script_is_loaded_again_and_the_count_goes_on(
    private_redis: PrivateRedis,
) -> None:
    policy = RatePolicy(name="flush", limit=30, window_s=600)
    limiter = RedisLimiter(private_redis.url, timeout_s=2.0)
    key = f"sub:{uuid.uuid4().hex}"
    try:
        before = await decide_together([limiter], policy, key, 20)
        with private_redis.client() as client:
            client.script_flush()
        after = await decide_together([limiter], policy, key, 20)
        with private_redis.client() as client:
            cached = client.script_exists(GCRA_SHA1.decode())
    finally:
        await limiter.close()

    assert not any(d.degraded for d in before + after)
    assert sum(d.allowed for d in before + after) == policy.limit
    assert cached == [True], "EVAL must have put the script back for the next EVALSHA"


async def test_a_paused_redis_fails_per_policy_in_time_and_is_used_again_once_resumed(
    private_redis: PrivateRedis,
) -> None:
    policy = RatePolicy(name="paused", limit=100, window_s=600)
    limiter = RedisLimiter(
        private_redis.url, timeout_s=0.1, on_failure="closed", retry_after_failure_s=0.2
    )
    assert private_redis.process is not None
    try:
        assert not (await limiter.decide("sub:alice", policy)).degraded
        private_redis.process.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        during = await decide_together([limiter], policy, "sub:alice", 50)
        elapsed = time.monotonic() - started
        private_redis.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.25)
        resumed = await limiter.decide("sub:alice", policy)
    finally:
        private_redis.process.send_signal(signal.SIGCONT)
        await limiter.close()

    assert all(d.degraded and not d.allowed for d in during)
    assert elapsed < 1.0, "a hung Redis must cost one timeout, not a hang"
    assert resumed.allowed and not resumed.degraded


async def test_a_restarted_redis_is_reconnected_to_after_the_pause(
    private_redis: PrivateRedis,
) -> None:
    policy = RatePolicy(name="restart", limit=100, window_s=600)
    limiter = RedisLimiter(private_redis.url, timeout_s=0.5, retry_after_failure_s=0.2)
    try:
        first = await limiter.decide("sub:alice", policy)
        private_redis.stop()
        down = await limiter.decide("sub:alice", policy)
        private_redis.start()  # empty: no keys, no cached script
        await asyncio.sleep(0.25)
        back = await limiter.decide("sub:alice", policy)
    finally:
        await limiter.close()

    assert not first.degraded
    assert down.degraded and down.allowed
    assert back.allowed and not back.degraded
    assert back.remaining == policy.limit - 1, "counted from zero by the new Redis"


async def test_the_password_user_and_db_of_the_url_are_used(tmp_path: Path) -> None:
    password = "s3cret:/@"
    server = PrivateRedis(require_redis_server(), tmp_path, password=password)
    server.start()
    try:
        with server.client() as admin:
            admin.acl_setuser(
                "limiter", enabled=True, passwords=["+pw-2"], keys=["*"], commands=["+@all"]
            )
        urls = [
            f"redis://:{quote(password, safe='')}@127.0.0.1:{server.port}/3",
            f"redis://limiter:pw-2@127.0.0.1:{server.port}/3",
        ]
        limiters = [RedisLimiter(url, timeout_s=2.0) for url in urls]
        policy = RatePolicy(name="auth", limit=3, window_s=600)
        try:
            decisions = [await limiters[i % 2].decide("sub:alice", policy) for i in range(4)]
        finally:
            for limiter in limiters:
                await limiter.close()
        with server.client(db=3) as client:
            in_db_3 = client.exists("frontdoor:ratelimit:auth:sub:alice")
    finally:
        server.stop()

    assert not any(d.degraded for d in decisions)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert in_db_3 == 1


async def test_a_wrong_password_fails_per_policy(tmp_path: Path) -> None:
    server = PrivateRedis(require_redis_server(), tmp_path, password="right")
    server.start()
    limiter = RedisLimiter(f"redis://:wrong@127.0.0.1:{server.port}/0", on_failure="closed")
    try:
        decision = await limiter.decide("sub:alice", RatePolicy(name="auth", limit=3, window_s=60))
    finally:
        await limiter.close()
        server.stop()

    assert decision.degraded and not decision.allowed


async def test_rediss_verifies_the_server_and_decides_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = ensure_dev_certificates(tmp_path / "certs")
    server = PrivateRedis(require_redis_server(), tmp_path, tls=certs)
    server.start()
    policy = RatePolicy(name="tls", limit=2, window_s=600)
    try:
        untrusted = RedisLimiter(server.url, timeout_s=2.0, on_failure="closed")
        try:
            refused = await untrusted.decide("sub:alice", policy)
        finally:
            await untrusted.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
        trusted = RedisLimiter(server.url, timeout_s=2.0, on_failure="closed")
        try:
            decisions = [await trusted.decide("sub:alice", policy) for _ in range(3)]
        finally:
            await trusted.close()
    finally:
        server.stop()

    assert refused.degraded, "a server the system does not trust must not be used"
    assert [d.allowed for d in decisions] == [True, True, False]
    assert not any(d.degraded for d in decisions)
