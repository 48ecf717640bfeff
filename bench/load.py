"""The load generators: `wrk` when installed, otherwise a small aiohttp client."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
import time
from dataclasses import dataclass

import aiohttp

SSL = ssl.SSLContext
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    requests: int = 0  # answered in the run, for figures per request
    # The measured server process's own CPU (utime+stime) over `requests`; None when
    # not measured. A proxy's figure leaves out the backend behind it.
    cpu_us_per_request: float | None = None


def run_load(
    generator: str, url: str, headers: dict[str, str], connections: int, seconds: float, tls: SSL
) -> Result:
    if generator == "wrk":
        return run_wrk(url, headers, connections, seconds)
    return asyncio.run(_load(url, headers, connections, seconds, tls))


def run_wrk(url: str, headers: dict[str, str], connections: int, seconds: float) -> Result:
    argv = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(  # noqa: S603 - wrk, found on PATH, with our own arguments
        [*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Result:
    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if match is None:
            raise ValueError(f"no {pct}% line in wrk output:\n{out}")
        return float(match[1]) * _UNITS_MS[match[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if rate is None:
        raise ValueError(f"no Requests/sec line in wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    done = re.search(r"^\s*(\d+) requests in ", out, re.M)
    requests = int(done[1]) if done else 0
    return Result(float(rate[1]), latency("50"), latency("99"), errors, requests)


async def _load(
    url: str, headers: dict[str, str], connections: int, seconds: float, tls: SSL
) -> Result:
    latencies: list[float] = []
    errors = 0

    async def worker(session: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal errors
        while (started := time.perf_counter()) < deadline:
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    errors += response.status >= 400
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=connections, ssl=tls)
    timeout = aiohttp.ClientTimeout(total=5.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(*(worker(session, deadline) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return Result(len(latencies) / elapsed, pct(0.50), pct(0.99), errors, len(latencies))
