"""Starts the processes, prefixes their output, waits until each is ready, stops them all."""

from __future__ import annotations

import ctypes
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import httpx

from devstack.topology import ProcessSpec

REPO_ROOT = Path(__file__).resolve().parent.parent


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies, however it dies.

    Without this a `kill -9` of the supervisor would leave five servers running
    and holding their ports. Linux only; elsewhere the orderly stop is all there is.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class StackError(Exception):
    """A process of the stack failed to start or become ready."""


class ManagedProcess:
    """One child process and the last lines of its output."""

    def __init__(self, spec: ProcessSpec, *, echo: bool, print_lock: threading.Lock) -> None:
        self.spec = spec
        self.lines: deque[str] = deque(maxlen=20_000)
        self._echo = echo
        self._print_lock = print_lock
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", spec.module],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own session: a Ctrl-C in the terminal reaches only the supervisor,
            # which then stops the children in order instead of all at once.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._pump = threading.Thread(target=self._read_output, daemon=True)
        self._pump.start()

    def _read_output(self) -> None:
        for line in self.popen.stdout or ():
            line = line.rstrip("\n")
            self.lines.append(line)
            if self._echo:
                with self._print_lock:
                    print(f"{self.spec.name:>10} | {line}", flush=True)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_output(self, text: str, timeout_s: float = 5.0) -> str:
        """The output once it holds `text`: a line is written after the response that caused
        it, and read from the pipe by another thread, so it may trail that response."""
        deadline = time.monotonic() + timeout_s
        while text not in (output := self.output()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return output

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._pump.join(timeout=2)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


class Stack:
    def __init__(self, specs: Sequence[ProcessSpec], *, tls: ssl.SSLContext, echo: bool) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.processes: dict[str, ManagedProcess] = {}
        self._tls = tls
        self._echo = echo
        self._print_lock = threading.Lock()

    def start(self, timeout_s: float = 30.0) -> None:
        for name in self.specs:
            self._spawn(name)
        for name in self.specs:
            self.wait_ready(name, timeout_s)

    def _spawn(self, name: str) -> None:
        self.processes[name] = ManagedProcess(
            self.specs[name], echo=self._echo, print_lock=self._print_lock
        )

    def wait_ready(self, name: str, timeout_s: float = 30.0) -> None:
        """Poll `/readyz` until it answers 200; fail early if the process died."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout_s
        with httpx.Client(verify=self._tls, timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if process.popen.poll() is not None:
                    raise StackError(
                        f"{name} exited with status {process.popen.returncode}:\n"
                        + "\n".join(list(process.lines)[-20:])
                    )
                try:
                    if client.get(process.spec.ready_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise StackError(f"{name} was not ready after {timeout_s:.0f}s")

    def stop_process(self, name: str) -> None:
        self.processes[name].stop()

    def start_process(self, name: str, timeout_s: float = 30.0) -> None:
        self._spawn(name)
        self.wait_ready(name, timeout_s)

    def restart(self, name: str, timeout_s: float = 30.0) -> None:
        self.stop_process(name)
        self.start_process(name, timeout_s)

    def wait_for_exit(self) -> tuple[str, int]:
        """Block until any process exits; a stack with a dead member is not a stack."""
        while True:
            for name, process in self.processes.items():
                code = process.popen.poll()
                if code is not None:
                    return name, code
            time.sleep(0.2)

    def stop(self) -> None:
        # The edge first, the services last: nothing new arrives while the rest winds down.
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
