"""The printed report: medians per scenario, then each ratio against its target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median

from bench.load import Result
from bench.scenarios import LABELS

NOISY = 0.20  # rounds disagree by more than this: the medians are not to be trusted


def summarize(rounds: Sequence[Result]) -> Result:
    return Result(
        median(r.requests_per_s for r in rounds),
        median(r.p50_ms for r in rounds),
        median(r.p99_ms for r in rounds),
        sum(r.errors for r in rounds),
        sum(r.requests for r in rounds),
    )


def table(rounds: Mapping[str, Sequence[Result]]) -> str:
    """Medians, and the spread of req/s over rounds: (max - min) / median."""
    lines = [
        f"{'scenario':36} {'req/s':>9} {'spread':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    ]
    for key, results in rounds.items():
        r, rates = summarize(results), [x.requests_per_s for x in results]
        spread = (max(rates) - min(rates)) / r.requests_per_s
        figures = f"{r.requests_per_s:9.0f} {spread:7.0%} {r.p50_ms:8.2f} {r.p99_ms:8.2f}"
        lines.append(f"{LABELS[key]:36} {figures} {r.errors:7d}")
        if spread > NOISY:
            lines[-1] += "  noisy: other work on the machine? rerun"
    return "\n".join(lines)


def ratios(loaded: Mapping[str, Result], single: Mapping[str, Result]) -> str:
    def rps(key: str) -> float | None:
        return loaded[key].requests_per_s if key in loaded else None

    def div(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    direct, passing, jwt, redis = (
        rps(k) for k in ("direct", "edge-pass", "edge-jwt-mem", "edge-jwt-redis")
    )
    cost = div(jwt, passing)
    added = (
        single["edge-jwt-mem"].p50_ms - single["direct"].p50_ms
        if "edge-jwt-mem" in single and "direct" in single
        else None
    )
    traced_p50 = (
        single["edge-jwt-traced"].p50_ms - single["edge-jwt-mem"].p50_ms
        if "edge-jwt-traced" in single and "edge-jwt-mem" in single
        else None
    )
    rows: list[tuple[str, float | None, str, float | None, str]] = [
        ("edge (c) / direct (a) throughput", div(jwt, direct), ">=", 0.40, ""),
        ("JWT + limiter cost, 1 - c/b", None if cost is None else 1 - cost, "<=", 0.15, ""),
        ("Redis limiter / memory limiter, d/c", div(redis, jwt), ">=", 0.85, ""),
        ("traced / untraced, c'/c, reference", div(rps("edge-jwt-traced"), jwt), "", None, ""),
        ("p50 added by tracing, 1 connection, c' - c", traced_p50, "", None, " ms"),
        ("added p50 at one connection, c - a", added, "<=", 0.5, " ms"),
        ("edge (c) / direct over TLS (a'), reference", div(jwt, rps("direct-tls")), "", None, ""),
        ("nginx (e) / direct (a), reference", div(rps("nginx"), direct), "", None, ""),
        ("bare Python proxy (f) / direct (a), reference", div(rps("bare"), direct), "", None, ""),
        ("edge (c) / bare Python proxy (f)", div(jwt, rps("bare")), "", None, ""),
    ]
    lines = [f"{'ratio':44} {'value':>9}  {'target':>10}  verdict"]
    for name, value, op, target, unit in rows:
        shown = "n/a" if value is None else f"{value:.2f}{unit}"
        goal = "" if target is None else f"{op} {target:g}{unit}"
        if value is None or target is None:
            verdict = "-"
        else:
            verdict = "PASS" if (value >= target if op == ">=" else value <= target) else "MISS"
        lines.append(f"{name:44} {shown:>9}  {goal:>10}  {verdict}")
    return "\n".join(lines)
