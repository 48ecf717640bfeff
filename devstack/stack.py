"""Starts the processes, prefixes their output, waits until each is ready, stops them all."""

from __future__ import annotations

import ctypes
import datetime
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import msgspec

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


# A log line is shown on a terminal: no control character of its text reaches it as such.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(32), *range(127, 160)) if code != 9}


def _shown(value: object) -> str:
    return str(value).translate(_CONTROLS)


def _clock(stamp: object) -> str:
    """`2026-12-01T10:05:21.123Z` as the local wall clock, `11:05:21.123`."""
    try:
        moment = datetime.datetime.fromisoformat(str(stamp)).astimezone()
    except ValueError:
        return _shown(stamp)
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"


def human_lines(line: str) -> list[str]:
    """A JSON log line as a person reads it; any other line as it is.

    The access line becomes `10:05:21.123 INFO  GET /api/web/dashboard 200 12.3 ms  rid=...`,
    any other `10:05:21.123 WARNING frontdoor.edge: message  rid=...`, and a
    traceback follows on lines of its own.
    """
    if not line.startswith("{"):
        return [line]
    try:
        record = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return [line]
    if not isinstance(record, dict):
        return [line]
    head = f"{_clock(record.get('time', ''))} {_shown(record.get('level', '')):<5}"
    if record.get("event") == "request":
        duration = record.get("duration_ms")
        took = f"{duration:.1f} ms" if isinstance(duration, int | float) else "? ms"
        text = " ".join(_shown(record.get(key, "?")) for key in ("method", "path", "status"))
        shown = f"{head} {text} {took}"
    else:
        shown = f"{head} {_shown(record.get('logger', ''))}: {_shown(record.get('message', ''))}"
    if request_id := record.get("request_id"):
        shown += f"  rid={_shown(request_id)}"
    traceback = record.get("exception")
    return [shown, *(_shown(part) for part in str(traceback or "").splitlines())]


class StackError(Exception):
    """A process of the stack failed to start or become ready."""


class ManagedProcess:
    """One child process and the last lines of its output."""

    def __init__(
        self, spec: ProcessSpec, *, echo: bool, print_lock: threading.Lock, raw_logs: bool = False
    ) -> None:
        self.spec = spec
        # As written: tests read these, whatever the echo shows.
        self.lines: deque[str] = deque(maxlen=20_000)
        self._echo = echo
        self._raw_logs = raw_logs
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
                shown = [line] if self._raw_logs else human_lines(line)
                with self._print_lock:
                    for part in shown:
                        print(f"{self.spec.name:>10} | {part}", flush=True)

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
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        tls: ssl.SSLContext,
        echo: bool,
        raw_logs: bool = False,
    ) -> None:
        """`echo` prints every process's output, its JSON log lines made readable
        unless `raw_logs` asks for them as written."""
        self.specs = {spec.name: spec for spec in specs}
        self.processes: dict[str, ManagedProcess] = {}
        self._tls = tls
        self._echo = echo
        self._raw_logs = raw_logs
        self._print_lock = threading.Lock()

    def start(self, timeout_s: float = 30.0) -> None:
        # The one-shot steps side by side, as replicas' init containers run: the
        # migrations serialise themselves.
        with ThreadPoolExecutor(max(1, len(self.specs))) as pool:
            list(pool.map(self.run_first, self.specs))
        for name in self.specs:
            self._spawn(name, first=False)
        for name in self.specs:
            self.wait_ready(name, timeout_s)

    def run_first(self, name: str, timeout_s: float = 60.0) -> None:
        """The process's one-shot step (`migrate`), to completion; StackError if it fails."""
        spec = self.specs[name]
        if not spec.first:
            return
        done = subprocess.run(
            [sys.executable, "-m", spec.module, *spec.first],
            cwd=REPO_ROOT,
            env={**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        lines = (done.stdout + done.stderr).splitlines()
        if self._echo:
            with self._print_lock:
                for line in lines:
                    for part in [line] if self._raw_logs else human_lines(line):
                        print(f"{spec.name:>10} | {part}", flush=True)
        if done.returncode != 0:
            command = " ".join(spec.first)
            raise StackError(
                f"{name} {command} exited with status {done.returncode}:\n" + "\n".join(lines[-20:])
            )

    def _spawn(self, name: str, *, first: bool = True) -> None:
        if first:
            self.run_first(name)
        self.processes[name] = ManagedProcess(
            self.specs[name], echo=self._echo, print_lock=self._print_lock, raw_logs=self._raw_logs
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
