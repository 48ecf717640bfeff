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

from bench.cpu import cpu_seconds, descendants, tree_cpu_seconds

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
