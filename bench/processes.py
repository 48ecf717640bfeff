"""Child processes of the bench: started with their output in a file, stopped in `finally`."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A process of the bench did not start, or a scenario did not answer as expected."""


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: all are held open together while the OS picks them."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Child:
    def __init__(
        self, name: str, argv: Sequence[str], log_dir: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.log_file = log_dir / f"{name}.log"
        with self.log_file.open("wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own processes, fixed argv
                list(argv),
                cwd=REPO_ROOT,
                env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches the bench, which stops us in order
            )

    def tail(self, lines: int = 15) -> str:
        text = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, url: str, tls: ssl.SSLContext | None, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(verify=tls or True, timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise BenchError(
                        f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise BenchError(f"{self.name} not ready at {url} after {timeout_s:.0f}s:\n{self.tail()}")

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
