"""`make bench-bff`: does a screen cost its slowest call, or the sum of its calls?

Phase 1 delays users by 10 ms and orders by 20 ms (the services' own dev-mode
delay) and measures the web dashboard's median latency at one connection: with
its three calls (users 10 ms, orders 20 ms, statistics 20 ms) made concurrently
it should sit near 20 ms; made one after another it would be 50 ms. The target
is p50 / 20 ms <= 1.10.

Phase 2 removes the delays and measures, interleaved in rounds, the dashboard's
throughput against the services' own (each dashboard costs three service calls).
"""

from __future__ import annotations

import shutil
import ssl
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.load import Result, run_load
from bench.processes import free_ports
from bench.report import summarize
from devstack.certs import ensure_dev_certificates
from devstack.stack import Stack
from devstack.topology import DEFAULT_PORTS, Topology

ROUNDS = 3
SECONDS = 3.0
CONNECTIONS = 16
SLOWEST_MS = 20.0
TARGET = 1.10


@contextmanager
def stack(directory: Path, delays: dict[str, int]) -> Iterator[tuple[Topology, dict[str, str]]]:
    certs = ensure_dev_certificates(directory / "certs")
    overrides = {
        name: {f"{name.upper()}_DEV_RESPONSE_DELAY_MS": str(ms)} for name, ms in delays.items()
    }
    topology = Topology(
        ports=dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True)),
        state_dir=directory,
        certs=certs,
        overrides=overrides,
    )
    # The edge is not under test here: start the BFF and the services only.
    specs = [spec for spec in topology.specs() if spec.name != "edge"]
    running = Stack(specs, tls=certs.client_context(), echo=False)
    try:
        running.start()
        login = httpx.post(
            topology.internal_url("users") + "/auth/token",
            json={"username": "alice", "password": "alice"},
            trust_env=False,
        )
        login.raise_for_status()
        yield topology, {"Authorization": f"Bearer {login.json()['access_token']}"}
    finally:
        running.stop()


def load(generator: str, url: str, headers: dict[str, str], connections: int) -> Result:
    # Plain HTTP inside the stack; the TLS context is only there for the signature.
    return run_load(generator, url, headers, connections, SECONDS, ssl.create_default_context())


def main() -> int:
    generator = "wrk" if shutil.which("wrk") else "python"
    print(f"load generator: {generator}; {ROUNDS} rounds of {SECONDS:g} s per measurement")
    with tempfile.TemporaryDirectory(prefix="frontdoor-bench-bff-") as tmp:
        with stack(Path(tmp) / "slow", {"users": 10, "orders": 20}) as (topology, auth):
            url = topology.internal_url("bff_web") + "/api/web/dashboard"
            latency = summarize([load(generator, url, auth, 1) for _ in range(ROUNDS)])
            # The best a BFF can do is its slowest call: measure that call alone.
            slowest_call = summarize(
                [
                    load(generator, topology.internal_url("orders") + "/orders?limit=5", auth, 1)
                    for _ in range(ROUNDS)
                ]
            )
        with stack(Path(tmp) / "fast", {}) as (topology, auth):
            targets = {
                "web dashboard (3 calls)": topology.internal_url("bff_web") + "/api/web/dashboard",
                "users /users/me direct": topology.internal_url("users") + "/users/me",
                "orders /orders direct": topology.internal_url("orders") + "/orders?limit=5",
            }
            rounds: dict[str, list[Result]] = {name: [] for name in targets}
            for _ in range(ROUNDS):  # interleaved, so a noisy moment hits every target
                for name, target in targets.items():
                    rounds[name].append(load(generator, target, auth, CONNECTIONS))
    ratio = latency.p50_ms / SLOWEST_MS
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print("\nwith users delayed 10 ms and orders 20 ms, one connection:")
    print(f"  dashboard p50 {latency.p50_ms:.2f} ms, p99 {latency.p99_ms:.2f} ms")
    print(f"  p50 / 20 ms = {ratio:.2f}   target <= {TARGET:.2f}   {verdict}")
    print(
        f"  the slowest call alone (orders /orders, direct): p50 {slowest_call.p50_ms:.2f} ms;"
        f" dashboard / slowest call = {latency.p50_ms / slowest_call.p50_ms:.2f}"
    )
    print(f"  (one call after another would be about {50 / SLOWEST_MS:.2f})")
    print(f"\nwithout delays, {CONNECTIONS} connections (median of {ROUNDS} rounds):")
    results = {name: summarize(r) for name, r in rounds.items()}
    for name, r in results.items():
        print(
            f"  {name:28} {r.requests_per_s:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  errors {r.errors}"
        )
    dashboard = results["web dashboard (3 calls)"].requests_per_s
    slowest = min(r.requests_per_s for name, r in results.items() if "direct" in name)
    print(f"  dashboard / slower service direct = {dashboard / slowest:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
