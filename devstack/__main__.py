"""`python -m devstack` (what `make run` calls): the whole stack on this machine."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

from devstack.certs import ensure_dev_certificates
from devstack.stack import Stack, StackError
from devstack.topology import Topology


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def banner(topology: Topology) -> str:
    ca = os.path.relpath(topology.certs.ca_file)  # short enough to copy and paste
    edge = topology.edge_url
    return f"""
Frontdoor is up. The edge is the only public entry point: {edge}
Demo users: alice/alice and bob/bob. The local CA is {ca}.

  TOKEN=$(curl -s --cacert {ca} {edge}/auth/token \\
      -H 'content-type: application/json' -d '{{"username":"alice","password":"alice"}}' \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s --cacert {ca} {edge}/api/web/dashboard -H "Authorization: Bearer $TOKEN"
  curl -s --cacert {ca} {edge}/api/mobile/home -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.
"""


def main() -> int:
    state_dir = Path(os.environ.get("FRONTDOOR_STATE_DIR", ".state")).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    certs = ensure_dev_certificates(state_dir / "certs")
    topology = Topology.from_environ(os.environ, state_dir, certs)
    stack = Stack(topology.specs(), tls=certs.client_context(), echo=True)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)  # the terminal went away
    try:
        stack.start()
        print(banner(topology), flush=True)
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
