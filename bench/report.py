"""The printed report: medians per scenario, then each figure against its target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from bench.load import Result
from bench.scenarios import LABELS

NOISY = 0.20  # rounds disagree by more than this: the medians are not to be trusted


def summarize(rounds: Sequence[Result]) -> Result:
    cpu = [r.cpu_us_per_request for r in rounds if r.cpu_us_per_request is not None]
    return Result(
        median(r.requests_per_s for r in rounds),
        median(r.p50_ms for r in rounds),
        median(r.p99_ms for r in rounds),
        sum(r.errors for r in rounds),
        sum(r.requests for r in rounds),
        median(cpu) if cpu else None,
    )


def table(rounds: Mapping[str, Sequence[Result]]) -> str:
    """Medians, and the spread of req/s over rounds: (max - min) / median.

    The CPU column appears when the rounds measured it: the server process's own
    utime+stime per request served, so it holds still when the machine is shared.
    """
    summaries = {key: summarize(results) for key, results in rounds.items()}
    with_cpu = any(r.cpu_us_per_request is not None for r in summaries.values())
    header = f"{'scenario':38} {'req/s':>9} {'spread':>7} {'p50 ms':>8} {'p99 ms':>8}"
    lines = [header + (f" {'CPU µs/req':>11}" if with_cpu else "") + f" {'errors':>7}"]
    for key, results in rounds.items():
        r, rates = summaries[key], [x.requests_per_s for x in results]
        spread = (max(rates) - min(rates)) / r.requests_per_s
        figures = f"{r.requests_per_s:9.0f} {spread:7.0%} {r.p50_ms:8.2f} {r.p99_ms:8.2f}"
        if with_cpu:
            cpu = r.cpu_us_per_request
            figures += f" {'-' if cpu is None else f'{cpu:.0f}':>11}"
        lines.append(f"{LABELS[key]:38} {figures} {r.errors:7d}")
        if spread > NOISY:
            lines[-1] += "  noisy: other work on the machine? rerun"
    return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    """One line of the verdict table; a reference row has no `must`."""

    name: str
    value: float | None
    unit: str = ""  # "", " ms", " µs" or "%"
    op: str = ""  # ">=" or "<="
    must: float | None = None
    aim: float | None = None

    def _meets(self, bound: float | None) -> bool:
        if self.value is None or bound is None:
            return False
        return self.value >= bound if self.op == ">=" else self.value <= bound

    @property
    def verdict(self) -> str:
        if self.value is None or self.must is None:
            return "-"
        if not self._meets(self.must):
            return "MISS"
        return "AIM" if self._meets(self.aim) else "PASS"

    def bound(self, figure: float | None) -> str:
        return "" if figure is None else f"{self.op} {show(figure, self.unit, bound=True)}"


def show(figure: float | None, unit: str, bound: bool = False) -> str:
    if figure is None:
        return "n/a"
    if unit == "%":
        # A value one more digit precise than its bounds: 15.3% is not <= 15%.
        return f"{figure:.0%}" if bound else f"{figure:.1%}"
    if unit == " µs":
        return f"{figure:.0f} µs"
    return f"{figure:.2f}{unit}"


def rows(loaded: Mapping[str, Result], single: Mapping[str, Result]) -> list[Row]:
    """The targets, then the references; every ratio is within one run of the bench."""

    def rps(key: str) -> float | None:
        return loaded[key].requests_per_s if key in loaded else None

    def div(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    def p50_gap(key: str, base: str) -> float | None:
        both = key in single and base in single
        return single[key].p50_ms - single[base].p50_ms if both else None

    direct, passing, jwt = rps("direct"), rps("edge-pass"), rps("edge-jwt-mem")
    cost = div(jwt, passing)
    toll = None if cost is None else 1 - cost
    added = p50_gap("edge-jwt-mem", "direct")
    traced = p50_gap("edge-jwt-traced", "edge-jwt-mem")
    edge_cpu = loaded["edge-jwt-mem"].cpu_us_per_request if "edge-jwt-mem" in loaded else None
    return [
        Row("JWT + memory limiter, c/a", div(jwt, direct), "", ">=", 0.25, 0.40),
        Row("pass-through route, b/a", div(passing, direct), "", ">=", 0.35, 0.55),
        Row("Redis / memory limiter, d/c", div(rps("edge-jwt-redis"), jwt), "", ">=", 0.88, 0.92),
        Row("added p50 at 1 connection, c - a", added, " ms", "<=", 0.25, 0.10),
        Row("JWT + limiter cost over pass-through, 1 - c/b", toll, "%", "<=", 0.25, 0.15),
        Row("edge CPU per request, c", edge_cpu, " µs", "<=", 100, 60),
        Row("reference: tracing, c'/c", div(rps("edge-jwt-traced"), jwt)),
        Row("reference: p50 added by tracing, c' - c", traced, " ms"),
        Row("reference: c / direct over TLS (a')", div(jwt, rps("direct-tls"))),
        Row("reference: nginx / direct, e/a", div(rps("nginx"), direct)),
        Row("reference: Litestar proxy / direct, f/a", div(rps("bare"), direct)),
        Row("reference: c / Litestar proxy, c/f", div(jwt, rps("bare"))),
        Row("reference: httptools proxy / direct, g/a", div(rps("bare-httptools"), direct)),
        Row("reference: c / httptools proxy, c/g", div(jwt, rps("bare-httptools"))),
    ]


def ratios(loaded: Mapping[str, Result], single: Mapping[str, Result]) -> str:
    """Each row's value, bounds and verdict: PASS (must met), AIM (aim met too) or MISS."""
    lines = [f"{'figure':46} {'value':>9} {'must':>10} {'aim':>10}  verdict"]
    for row in rows(loaded, single):
        value, must, aim = show(row.value, row.unit), row.bound(row.must), row.bound(row.aim)
        lines.append(f"{row.name:46} {value:>9} {must:>10} {aim:>10}  {row.verdict}")
    return "\n".join(lines)
