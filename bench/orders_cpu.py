"""`python -m bench.orders_cpu`: the orders service's own CPU time per request, by endpoint.

Starts users (for login and the JWKS) and orders as real processes with dev-mode demo
data, logs in as alice, and drives sequential keep-alive requests at each endpoint in
turn, over several interleaved rounds. The figure is the orders process's utime+stime
(all its threads, from /proc/<pid>/stat) divided by the requests: unlike wall-clock
time it barely moves when other work shares this machine's two cores.
"""

from __future__ import annotations

import ssl
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

from bench.cpu import cpu_seconds
from bench.processes import free_ports
from devstack.certs import ensure_dev_certificates
from devstack.stack import Stack
from devstack.topology import DEFAULT_PORTS, Topology

ROUNDS = 7
REQUESTS = 1500  # per endpoint and round: ~150 clock ticks of CPU, so a tick is <1 %
WARMUP = 300
EXTRA_ORDERS = 4  # alice's demo orders plus these fill a page of 5 and leave a next page
ENDPOINTS = {
    "/orders?limit=5": True,
    "/orders/stats": True,
    "/livez (floor: no token, no database)": False,
}


def cpu_split(pid: int) -> tuple[float, float]:
    """CPU seconds of the whole process and of its main thread (the event loop)."""
    return cpu_seconds(Path(f"/proc/{pid}/stat")), cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))


def path_of(endpoint: str) -> str:
    return endpoint.split(" ", 1)[0]


def drive(client: httpx.Client, path: str, headers: dict[str, str], count: int) -> None:
    for _ in range(count):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")


Rounds = dict[str, list[tuple[float, float]]]


def measure(pid: int, client: httpx.Client, auth: dict[str, str]) -> Rounds:
    """CPU µs per request (whole process, event-loop thread), per round and endpoint."""
    per_round: Rounds = {endpoint: [] for endpoint in ENDPOINTS}
    for endpoint, needs_token in ENDPOINTS.items():
        drive(client, path_of(endpoint), auth if needs_token else {}, WARMUP)
    for _ in range(ROUNDS):  # interleaved, so a noisy moment hits every endpoint
        for endpoint, needs_token in ENDPOINTS.items():
            total, loop = cpu_split(pid)
            drive(client, path_of(endpoint), auth if needs_token else {}, REQUESTS)
            total_after, loop_after = cpu_split(pid)
            scale = 1e6 / REQUESTS
            per_round[endpoint].append(((total_after - total) * scale, (loop_after - loop) * scale))
    return per_round


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="frontdoor-bench-orders-") as tmp:
        directory = Path(tmp)
        certs = ensure_dev_certificates(directory / "certs")
        topology = Topology(
            ports=dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True)),
            state_dir=directory,
            certs=certs,
        )
        specs = [spec for spec in topology.specs() if spec.name in ("users", "orders")]
        stack = Stack(specs, tls=ssl.create_default_context(), echo=False)
        try:
            stack.start()
            users = topology.internal_url("users")
            login = httpx.post(
                f"{users}/auth/token",
                json={"username": "alice", "password": "alice"},
                trust_env=False,
            )
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            orders_url = topology.internal_url("orders")
            with httpx.Client(base_url=orders_url, trust_env=False, timeout=5.0) as client:
                for position in range(EXTRA_ORDERS):
                    body = {
                        "currency": "EUR",
                        "items": [
                            {
                                "sku": f"BN-{position}",
                                "name": "Bench",
                                "quantity": 1,
                                "unit_price_minor": 100,
                            }
                        ],
                    }
                    client.post("/orders", json=body, headers=auth).raise_for_status()
                page = client.get("/orders?limit=5", headers=auth).json()
                if len(page["items"]) != 5 or not page["next_cursor"]:
                    raise SystemExit(f"expected a full first page and a next one: {page}")
                results = measure(stack.processes["orders"].popen.pid, client, auth)
        finally:
            stack.stop()
    print(f"orders process CPU per request: median of {ROUNDS} rounds x {REQUESTS} requests")
    print(f"  {'':40} {'process':>8} {'loop':>8} {'others':>8}   process per round")
    for endpoint, figures in results.items():
        totals = [total for total, _ in figures]
        loops = [loop for _, loop in figures]
        total, loop = statistics.median(totals), statistics.median(loops)
        spread = f"{min(totals):.0f}..{max(totals):.0f}"
        print(f"  {endpoint:40} {total:8.0f} {loop:8.0f} {total - loop:8.0f}   {spread} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
