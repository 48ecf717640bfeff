"""`python -m bench.edge`: a backend, the edge in four configurations, nginx and two bare
Python proxies, loaded in turn.

Every process listens on 127.0.0.1 only. Proxies run side by side but idle while another
is measured; rounds alternate scenarios so that drift on a shared machine hits all alike.
Each loaded run also reads the measured server's own CPU time, which holds still when
other work shares the machine where requests per second do not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import httpx
import redis

from bench.backend import BODY
from bench.cpu import MachineTicks, tree_cpu_seconds
from bench.load import Result, run_load
from bench.nginx import nginx_argv
from bench.processes import BenchError, Child, free_ports
from bench.report import ratios, summarize, table
from bench.scenarios import (
    PATH_JWT,
    REDIS_URL,
    Scenario,
    edge_environments,
    edge_scenario,
    write_route_file,
)
from bench.tokens import BenchIssuer
from devstack.certs import ensure_dev_certificates

Load = Callable[[Scenario, int, float], Result]
SINGLE_CONNECTION = (
    "direct",
    "direct-tls",
    "edge-pass",
    "edge-jwt-mem",
    "edge-jwt-traced",
    "nginx",
    "bare-httptools",
)
TLS_NOTE = """\
note: a is plain HTTP; a' and b-g terminate TLS (keep-alive: one handshake per connection,
record encryption per request), so their gap to a includes TLS, not only proxying. a' is
what TLS alone costs uvicorn; nginx, what TLS plus one proxy hop costs in C; g, the same in
Python with no framework (the ceiling for a Python edge). CPU µs/req is the measured
process's own utime+stime (nginx: master and worker), never the backend's behind it."""


STOLEN_NOISY = 0.05


def redis_commands() -> int | None:
    """Commands Redis has processed so far, or None when it does not answer."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_timeout=1.0) as client:
            return int(client.info("stats")["total_commands_processed"])
    except (redis.RedisError, OSError):
        return None


def busy_cpus(seconds: float = 1.0) -> float:
    """CPUs' worth of work done by the whole machine over `seconds` (Linux /proc/stat)."""
    before = MachineTicks.read()
    time.sleep(seconds)
    return (os.cpu_count() or 1) * before.busy_share(MachineTicks.read())


def start(work: Path, children: list[Child]) -> tuple[list[Scenario], ssl.SSLContext]:
    """Start every process, wait until each is ready, and check each scenario answers."""
    certs, issuer = ensure_dev_certificates(work / "certs"), BenchIssuer()
    (work / "jwks.json").write_text(json.dumps(issuer.jwks()))
    backend_port, tls_port, nginx_port, bare_port, httptools_port, *edge_ports = free_ports(9)
    backend, tls_backend = f"http://127.0.0.1:{backend_port}", f"https://127.0.0.1:{tls_port}"
    argv = (sys.executable, "-m", "bench.backend", str(backend_port), str(work / "jwks.json"))
    tls_argv = (*argv[:3], str(tls_port), argv[4], str(certs.cert_file), str(certs.key_file))
    scenarios = [
        Scenario("direct", backend + PATH_JWT, argv=argv, ready_url=f"{backend}/"),
        # The same backend behind uvicorn's TLS: what TLS alone costs a Python server.
        Scenario("direct-tls", tls_backend + PATH_JWT, argv=tls_argv, ready_url=f"{tls_backend}/"),
    ]
    # The edge gets the bench's EDGE_ variables only, never the caller's own.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDGE_")}
    envs = edge_environments(backend, certs, write_route_file(work))
    for (key, env), port in zip(envs.items(), edge_ports, strict=True):
        if key == "edge-jwt-redis" and redis_commands() is None:
            print(f"Redis not reachable at {REDIS_URL}: d skipped")
        else:
            scenarios.append(edge_scenario(key, port, {**clean, **env}, issuer.token()))
    # The two yardsticks: python -m MODULE PORT BACKEND_URL CERT KEY.
    yardsticks = (
        ("bare", "bench.bare_proxy", bare_port),
        ("bare-httptools", "bench.bare_httptools_proxy", httptools_port),
    )
    cert_and_key = (str(certs.cert_file), str(certs.key_file))
    for key, module, port in yardsticks:
        base = f"https://127.0.0.1:{port}"
        yardstick = (sys.executable, "-m", module, str(port), backend, *cert_and_key)
        scenarios.append(Scenario(key, base + PATH_JWT, argv=yardstick, ready_url=base + "/"))
    if nginx := nginx_argv(work, certs, nginx_port, backend_port):
        url = f"https://127.0.0.1:{nginx_port}{PATH_JWT}"
        scenarios.append(Scenario("nginx", url, argv=tuple(nginx), ready_url=url))
    else:
        print("nginx not installed: skipped")
    # The backend is the direct scenario's process; proxies start once it is ready.
    tls = certs.client_context()
    for scenario in scenarios:
        children.append(Child(scenario.key, scenario.argv, work, scenario.env))
        if scenario.key == "direct":
            children[0].wait_ready(scenario.ready_url, tls)
    with httpx.Client(verify=tls, timeout=5.0, trust_env=False) as client:
        for scenario, child in zip(scenarios, children, strict=True):
            child.wait_ready(scenario.ready_url, tls)
            answer = client.get(scenario.url, headers=scenario.headers)
            if answer.status_code != 200 or answer.content != BODY:
                raise BenchError(f"{scenario.label}: {answer.status_code} {answer.text[:300]}")
            if scenario.key == "edge-jwt-mem" and "ratelimit" not in answer.headers:
                print("note: the edge sent no RateLimit header: c and d may measure JWT only")
    return scenarios, tls


def measure(
    args: argparse.Namespace, scenarios: list[Scenario], load: Load, pids: Mapping[str, int]
) -> None:
    # Every process of the bench is idle now: what runs is someone else's.
    if (busy := busy_cpus()) > 0.2:
        print(f"warning: {busy:.1f} CPUs busy with other work before measuring: expect noise")
    for scenario in scenarios:
        load(scenario, args.connections, 1.0)  # warm-up: pools, JWKS, caches
    loaded: dict[str, list[Result]] = {s.key: [] for s in scenarios}
    single: dict[str, list[Result]] = {s.key: [] for s in scenarios if s.key in SINGLE_CONNECTION}
    redis_seen = 0

    def with_cpu(scenario: Scenario, connections: int, seconds: float) -> Result:
        """The load's result, with the loaded process's own CPU per request it served."""
        cpu_before = tree_cpu_seconds(pids[scenario.key])
        result = load(scenario, connections, seconds)
        cpu_s = tree_cpu_seconds(pids[scenario.key]) - cpu_before
        if result.requests:
            result = replace(result, cpu_us_per_request=cpu_s * 1e6 / result.requests)
        return result

    ticks = MachineTicks.read()
    for turn in range(args.rounds):
        for scenario in scenarios[turn:] + scenarios[:turn]:
            before = redis_commands() if scenario.key == "edge-jwt-redis" else None
            loaded[scenario.key].append(with_cpu(scenario, args.connections, args.seconds))
            redis_seen += (redis_commands() or 0) - before if before is not None else 0
        for scenario in scenarios:
            if scenario.key in single:
                # One request at a time runs cold (caches, an idle CPU woken per
                # request): its CPU per request shows what the latency is made of.
                single[scenario.key].append(with_cpu(scenario, 1, args.latency_seconds))

    stolen = ticks.stolen_share(MachineTicks.read())
    many = {key: summarize(rounds) for key, rounds in loaded.items()}
    one = {key: summarize(rounds) for key, rounds in single.items()}
    print(f"\n{args.connections} connections, median of {args.rounds} rounds x {args.seconds:g} s")
    print(table(loaded))
    print(f"\none connection, median of {args.rounds} rounds x {args.latency_seconds:g} s")
    print(table(single) + "\n\n" + ratios(many, one) + "\n\n" + TLS_NOTE)
    if "edge-jwt-redis" in loaded:
        served = sum(r.requests for r in loaded["edge-jwt-redis"])
        verdict = "the edge uses Redis" if redis_seen >= served / 2 else "no sign of Redis: d = c"
        print(f"Redis ran {redis_seen / max(served, 1):.1f} commands per request of d: {verdict}.")
    # On a VM, time the hypervisor gave other guests: when it is large, every figure moves.
    noisy = " (past 5%: expect noise, rerun at a quieter time)" if stolen > STOLEN_NOISY else ""
    print(f"CPU time stolen by the hypervisor while measuring: {stolen:.0%}{noisy}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    # Defaults keep the whole run near four minutes with nine scenarios; five rounds
    # give medians that one burst of noise on a shared VM does not move.
    parser.add_argument("--seconds", type=float, default=3.0, help="per round, loaded")
    parser.add_argument("--latency-seconds", type=float, default=2.0, help="per round, -c1")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":")[1].strip() for line in cpuinfo if "model name" in line), "?")
    print(f"machine: {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    print(f"load generator: {'wrk -t1' if generator == 'wrk' else 'Python (aiohttp), in-process'}")
    # A SIGTERM (a CI timeout) unwinds like Ctrl-C, so `finally` still stops the children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp:
        children: list[Child] = []
        try:
            scenarios, tls = start(Path(tmp), children)
            # start() appends one child per scenario, in the same order.
            pids = {s.key: child.popen.pid for s, child in zip(scenarios, children, strict=True)}

            def load(scenario: Scenario, connections: int, seconds: float) -> Result:
                return run_load(
                    generator, scenario.url, scenario.headers, connections, seconds, tls
                )

            measure(args, scenarios, load, pids)
        except BenchError as exc:
            print(f"bench-edge: {exc}", file=sys.stderr)
            return 1
        finally:
            for child in reversed(children):
                child.stop()
    print(f"\nbench-edge took {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
