"""`make run` (`python -m devstack`): starts the stack, and never leaves a process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import REPO_ROOT
from devstack.topology import DEFAULT_PORTS, ENV_PREFIX
from tests.running_stack import free_port

pytestmark = pytest.mark.integration


def children_of(pid: int) -> dict[int, str]:
    """The supervisor's child processes and the module each runs (Linux /proc)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        found[int(child)] = cmdline[2].decode() if len(cmdline) > 2 else "?"
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:  # reaped between the two looks
        return False


class Supervisor:
    def __init__(self, state_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(ENV_PREFIX.values()))}
        env |= {f"{ENV_PREFIX[name]}PORT": str(free_port()) for name in DEFAULT_PORTS}
        env |= {"FRONTDOOR_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._up = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout or ():
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Frontdoor is up"):
                self._up.set()

    def wait_up(self) -> dict[int, str]:
        assert self._up.wait(90), "\n".join(self.lines[-30:])
        return children_of(self.popen.pid)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    running = Supervisor(tmp_path)
    try:
        yield running
    finally:
        if running.popen.poll() is None:
            running.popen.kill()
        running.popen.wait()
        if running.popen.stdout is not None:
            running.popen.stdout.close()


def wait_exit(supervisor: Supervisor, timeout_s: float = 30) -> int:
    return supervisor.popen.wait(timeout_s)


def test_ctrl_c_stops_every_process(supervisor: Supervisor) -> None:
    children = supervisor.wait_up()
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
    children = supervisor.wait_up()
    orders = next(pid for pid, name in children.items() if name == "services.orders")

    os.kill(orders, signal.SIGKILL)

    assert wait_exit(supervisor) == 1
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]
    assert any("orders exited with status" in line for line in supervisor.lines)


def test_children_die_with_a_killed_supervisor(supervisor: Supervisor) -> None:
    children = supervisor.wait_up()

    supervisor.popen.kill()  # SIGKILL: no chance to stop anything in order

    supervisor.popen.wait(10)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]


def test_a_second_ctrl_c_does_not_cut_the_stop_short(supervisor: Supervisor) -> None:
    children = supervisor.wait_up()

    supervisor.popen.send_signal(signal.SIGINT)
    time.sleep(0.05)
    supervisor.popen.send_signal(signal.SIGINT)

    assert wait_exit(supervisor) == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for pid, name in children.items() if alive(pid)]
