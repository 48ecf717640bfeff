"""CPU time read from /proc: a server's own, with the processes it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cpu import MachineTicks, cpu_seconds, descendants, tree_cpu_seconds

# A parent that only waits, and a child that burns ~0.3 s of CPU and then waits too.
BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
PARENT = (
    "import subprocess, sys, time\n"
    f"subprocess.Popen([sys.executable, '-c', {BURN + 'time.sleep(30)'!r}])\n"
    "time.sleep(30)\n"
)


@pytest.fixture
def parent() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        yield process
    finally:
        for child in descendants(process.pid):  # before the parent, or they are orphaned
            os.kill(child, signal.SIGKILL)
        process.kill()
        process.wait()


def wait_for_child(pid: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if found := descendants(pid):
            return found.pop()
        time.sleep(0.05)
    raise AssertionError("the child never started")


def test_tree_cpu_counts_a_busy_child(parent: subprocess.Popen[bytes]) -> None:
    child = wait_for_child(parent.pid)
    deadline = time.monotonic() + 10
    while cpu_seconds(Path(f"/proc/{child}/stat")) < 0.25 and time.monotonic() < deadline:
        time.sleep(0.05)
    own = cpu_seconds(Path(f"/proc/{parent.pid}/stat"))
    assert tree_cpu_seconds(parent.pid) >= own + 0.25


def test_a_process_without_children_has_no_descendants() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert descendants(process.pid) == set()
    finally:
        process.kill()
        process.wait()


def stat_file(tmp_path: Path, cpu_line: str) -> Path:
    path = tmp_path / "stat"
    path.write_text(f"{cpu_line}\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n")
    return path


def test_stolen_share_is_steal_over_every_tick_between_two_readings(tmp_path: Path) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = MachineTicks.read(stat_file(tmp_path, "cpu  100 0 50 800 10 0 5 35 0 0"))
    after = MachineTicks.read(stat_file(tmp_path, "cpu  160 0 70 900 10 0 5 55 0 0"))

    assert after.total - before.total == 200
    assert before.stolen_share(after) == pytest.approx(20 / 200)
    assert before.busy_share(after) == pytest.approx(1 - 100 / 200)


def test_a_kernel_without_a_steal_column_reads_as_none_stolen(tmp_path: Path) -> None:
    before = MachineTicks.read(stat_file(tmp_path, "cpu  100 0 50 800 10 0 5"))
    after = MachineTicks.read(stat_file(tmp_path, "cpu  200 0 50 900 10 0 5"))

    assert before.stolen_share(after) == 0
    assert before.busy_share(after) == pytest.approx(0.5)


def test_this_machines_counters_read_and_only_grow() -> None:
    before = MachineTicks.read()
    after = MachineTicks.read()

    assert after.total >= before.total > 0
    assert 0 <= before.stolen_share(after) <= 1
