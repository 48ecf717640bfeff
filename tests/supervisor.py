"""`python -m devstack`, what `make run` starts, on free ports: its output collected, its
banner kept apart from the children's lines, its children found by the module they run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import REPO_ROOT
from devstack.topology import ENV_PREFIX
from tests.running_stack import free_port

BANNER_START = "Frontdoor is up"
BANNER_END = "Ctrl-C stops everything."
# A child's line, `      edge | ...`: the supervisor prefixes each with the child's name.
CHILD_LINE = re.compile(r"^ {0,10}\w+ \| ")


def children_of(pid: int) -> dict[int, str]:
    """A process's children and the module each runs (Linux /proc)."""
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
    """`prefixes`: each process's settings prefix by name; every one gets a free port,
    and none of the caller's own settings with those prefixes leaks in."""

    def __init__(
        self,
        state_dir: Path,
        *,
        root: Path = REPO_ROOT,
        prefixes: Mapping[str, str] = ENV_PREFIX,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.ports = {name: free_port() for name in prefixes}
        environ = {
            k: v for k, v in os.environ.items() if not k.startswith(tuple(prefixes.values()))
        }
        environ |= {f"{prefixes[name]}PORT": str(port) for name, port in self.ports.items()}
        environ |= {"FRONTDOOR_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=root,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.banner: list[str] = []
        self._up = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        in_banner = False
        for raw in self.popen.stdout or ():
            line = raw.rstrip("\n")
            self.lines.append(line)
            in_banner = in_banner or line.startswith(BANNER_START)
            if in_banner and not CHILD_LINE.match(line):
                self.banner.append(line)
                if line == BANNER_END:
                    in_banner = False
                    self._up.set()

    def wait_up(self, timeout_s: float = 90) -> list[str]:
        """The banner, once the whole stack is up."""
        assert self._up.wait(timeout_s), "\n".join(self.lines[-40:])
        return self.banner

    def children(self) -> dict[int, str]:
        return children_of(self.popen.pid)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; killed if it does not stop within 30 s."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()


@contextmanager
def supervised(
    state_dir: Path,
    *,
    root: Path = REPO_ROOT,
    prefixes: Mapping[str, str] = ENV_PREFIX,
    env: Mapping[str, str] | None = None,
) -> Iterator[Supervisor]:
    """A supervisor that is killed, whatever the test left it doing, on the way out."""
    running = Supervisor(state_dir, root=root, prefixes=prefixes, env=env)
    try:
        yield running
    finally:
        if running.popen.poll() is None:
            running.popen.kill()
        running.popen.wait()
        if running.popen.stdout is not None:
            running.popen.stdout.close()
