"""`make run` (`python -m devstack`): starts the stack, and never leaves a process behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.supervisor import Supervisor, alive, supervised

pytestmark = pytest.mark.integration


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    with supervised(tmp_path) as running:
        yield running


def wait_exit(supervisor: Supervisor, timeout_s: float = 30) -> int:
    return supervisor.popen.wait(timeout_s)


def test_ctrl_c_stops_every_process(supervisor: Supervisor) -> None:
    supervisor.wait_up()
    children = supervisor.children()
    assert sorted(children.values()) == sorted(
        [
            "devstack.trace_store",
            "edge",
            "bff_web",
            "bff_mobile",
            "services.users",
            "services.orders",
        ]
    )
    assert any(line.startswith("      edge | ") for line in supervisor.lines), "no prefixed lines"

    supervisor.popen.send_signal(signal.SIGINT)

    assert wait_exit(supervisor) == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]


def test_a_crashed_process_stops_the_whole_stack(supervisor: Supervisor) -> None:
    supervisor.wait_up()
    children = supervisor.children()
    orders = next(pid for pid, name in children.items() if name == "services.orders")

    os.kill(orders, signal.SIGKILL)

    assert wait_exit(supervisor) == 1
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]
    assert any("orders exited with status" in line for line in supervisor.lines)


def test_children_die_with_a_killed_supervisor(supervisor: Supervisor) -> None:
    supervisor.wait_up()
    children = supervisor.children()

    supervisor.popen.kill()  # SIGKILL: no chance to stop anything in order

    supervisor.popen.wait(10)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]


def test_a_second_ctrl_c_does_not_cut_the_stop_short(supervisor: Supervisor) -> None:
    supervisor.wait_up()
    children = supervisor.children()

    supervisor.popen.send_signal(signal.SIGINT)
    time.sleep(0.05)
    supervisor.popen.send_signal(signal.SIGINT)

    assert wait_exit(supervisor) == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]
