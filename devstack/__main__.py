"""`python -m devstack` (what `make run` calls): the whole stack on this machine."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from devstack.certs import ensure_dev_certificates
from devstack.stack import Stack, StackError
from devstack.topology import Topology


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _shown(path: Path) -> str:
    """A path as short as it can be and still work from this directory."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def banner(topology: Topology, pids: Mapping[str, int]) -> str:
    """What the walkthrough (docs/walkthrough.md) needs: where each process listens, its
    pid, and the shell variables its commands use, with this stack's values filled in."""
    edge = topology.edge_url
    rows = "\n".join(
        f"  {name:<11} {edge if name == 'edge' else topology.internal_url(name):<24} pid {pid}"
        for name, pid in pids.items()
    )
    variables = " ".join(
        f"{key}={shlex.quote(value)}"
        for key, value in {
            "CA": topology.certs.ca_file.resolve().as_posix(),
            "EDGE": edge,
            "BFF_WEB": topology.internal_url("bff_web"),
            "ORDERS_PID": str(pids["orders"]),
        }.items()
    )
    forwarding = ""
    if topology.forward_traces_to:
        forwarding = f"\nYour OTLP endpoint gets every span too: {topology.forward_traces_to}"
    return f"""
Frontdoor is up. The edge is the only public entry point: {edge}
Demo users: alice/alice and bob/bob. The local CA is {_shown(topology.certs.ca_file)}.
Each request's timeline across the processes: {topology.timeline_url}{forwarding}

{rows}

For the walkthrough (docs/walkthrough.md), in another shell:

  {variables}
  TOKEN=$(curl -s --cacert "$CA" "$EDGE/auth/token" \\
      -H 'content-type: application/json' -d '{{"username":"alice","password":"alice"}}' \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s --cacert "$CA" "$EDGE/api/web/dashboard" -H "Authorization: Bearer $TOKEN"
  curl -s --cacert "$CA" "$EDGE/api/mobile/home" -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.
"""


def main() -> int:
    state_dir = Path(os.environ.get("FRONTDOOR_STATE_DIR", ".state")).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    certs = ensure_dev_certificates(state_dir / "certs")
    topology = Topology.from_environ(os.environ, state_dir, certs)
    raw_logs = os.environ.get("DEVSTACK_RAW_LOGS", "").lower() in {"1", "true", "yes"}
    stack = Stack(topology.specs(), tls=certs.client_context(), echo=True, raw_logs=raw_logs)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)  # the terminal went away
    try:
        stack.start()
        pids = {name: stack.processes[name].popen.pid for name in topology.ports}
        print(banner(topology, pids), flush=True)
        name, code = stack.wait_for_exit()
        print(f"{name} exited with status {code}; stopping the stack", file=sys.stderr)
        return 1
    except StackError as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not cut the stop short and leave servers running.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
