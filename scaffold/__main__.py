"""`python -m scaffold <name>`: check the name, work out every file, write them, report."""

from __future__ import annotations

import sys
from pathlib import Path

from scaffold.formatting import format_python
from scaffold.names import refusal
from scaffold.plan import PlanError, make_plan, write_plan
from scaffold.report import report
from scaffold.repository import stack_ports
from scaffold.service import NewService, next_free_port

# The repository this package belongs to, wherever the command is run from.
ROOT = Path(__file__).resolve().parent.parent
USAGE = "usage: make new-service NAME=<name>  (or python -m scaffold <name>)"


def main(argv: list[str], root: Path = ROOT) -> int:
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(argv) != 1 or not argv[0]:
        print(USAGE, file=sys.stderr)
        return 2
    [name] = argv
    if reason := refusal(name, root):
        print(f"new-service: cannot add {name!r}: {reason}", file=sys.stderr)
        return 2
    service = NewService(name, port=next_free_port(stack_ports(root).values()))
    try:
        plan = make_plan(root, service)
    except PlanError as exc:
        print(f"new-service: nothing written: {exc}", file=sys.stderr)
        return 1
    write_plan(root, plan)
    print(report(service, plan, format_python(root, plan.python_files)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
