"""The bench-edge report: verdicts against must and aim, and the CPU column."""

from __future__ import annotations

from bench.load import Result
from bench.report import Row, ratios, rows, summarize, table


def result(rps: float, p50_ms: float = 1.0, cpu: float | None = None) -> Result:
    return Result(rps, p50_ms, 2 * p50_ms, 0, int(rps * 4), cpu)


def test_verdict_is_aim_pass_or_miss_by_bound() -> None:
    def at_least(value: float) -> Row:
        return Row("c/a", value, "", ">=", 0.25, 0.40)

    assert [at_least(v).verdict for v in (0.45, 0.30, 0.20)] == ["AIM", "PASS", "MISS"]


def test_at_most_bounds_pass_below_and_miss_above() -> None:
    def at_most(value: float) -> Row:
        return Row("c - a", value, " ms", "<=", 0.25, 0.10)

    assert [at_most(v).verdict for v in (0.08, 0.20, 0.30)] == ["AIM", "PASS", "MISS"]


def test_reference_rows_and_missing_figures_have_no_verdict() -> None:
    assert Row("e/a", 0.9).verdict == "-"
    assert Row("d/c", None, "", ">=", 0.88, 0.92).verdict == "-"


def test_targets_are_computed_from_one_run() -> None:
    loaded = {
        "direct": result(10_000),
        "edge-pass": result(6_000),
        "edge-jwt-mem": result(4_500, cpu=80.0),
        "edge-jwt-redis": result(4_000),
        "bare-httptools": result(7_500),
    }
    single = {"direct": result(0, p50_ms=0.20), "edge-jwt-mem": result(0, p50_ms=0.35)}
    found = {row.name: row for row in rows(loaded, single)}
    assert found["JWT + memory limiter, c/a"].value == 0.45
    assert found["pass-through route, b/a"].value == 0.6
    assert found["Redis / memory limiter, d/c"].verdict == "PASS"  # 0.89
    assert found["JWT + limiter cost over pass-through, 1 - c/b"].value == 0.25
    assert found["edge CPU per request, c"].verdict == "PASS"  # 80 µs: <= 100, not <= 60
    assert found["reference: c / httptools proxy, c/g"].value == 0.6
    added = found["added p50 at 1 connection, c - a"].value
    assert added is not None and round(added, 2) == 0.15


def test_ratio_table_prints_bounds_and_missing_scenarios() -> None:
    text = ratios({"direct": result(10_000), "edge-jwt-mem": result(3_000, cpu=50.0)}, {})
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    figures = lines["JWT + memory limiter, c/a"].split()[-6:]
    assert figures == ["0.30", ">=", "0.25", ">=", "0.40", "PASS"]
    assert "<= 100 µs" in lines["edge CPU per request, c"]
    assert lines["edge CPU per request, c"].endswith("AIM")
    assert "n/a" in lines["reference: nginx / direct, e/a"]


def test_cpu_is_the_median_over_rounds() -> None:
    rounds = [result(1000, cpu=90.0), result(1000, cpu=70.0), result(1000, cpu=300.0)]
    assert summarize(rounds).cpu_us_per_request == 90.0


def test_loaded_table_has_a_cpu_column() -> None:
    text = table({"nginx": [result(9000, cpu=21.4)], "direct": [result(10_000)]})
    header, nginx, direct = text.splitlines()
    assert "CPU µs/req" in header
    assert nginx.split()[-2:] == ["21", "0"]
    assert direct.split()[-2:] == ["-", "0"]


def test_table_without_cpu_figures_has_no_cpu_column() -> None:
    assert "CPU" not in table({"direct": [result(10_000)]})
