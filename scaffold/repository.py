"""What the scaffold reads before it writes: the dev stack's processes, and every name
already taken in the repository (packages, deployables, compose services, manifests)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

TOPOLOGY = Path("devstack/topology.py")
COMPOSE_FILES = (Path("infra/compose/compose.yaml"), Path("infra/compose/compose.prod.yaml"))
K8S = Path("infra/k8s")
# Names the repository keeps whether or not a folder holds them in this checkout.
RESERVED = {"workshop": "the workshop package (make exercise)"}


def stack_ports(root: Path) -> dict[str, int]:
    """DEFAULT_PORTS of devstack/topology.py: each process's port under `make run`."""
    ports: dict[str, int] = _topology_literal(root, "DEFAULT_PORTS")
    return ports


def stack_prefixes(root: Path) -> dict[str, str]:
    """ENV_PREFIX of devstack/topology.py: each process's settings prefix, `ORDERS_`."""
    prefixes: dict[str, str] = _topology_literal(root, "ENV_PREFIX")
    return prefixes


def services_added_after(root: Path, name: str) -> list[str]:
    """The services the stack runs after `name`, in its order: those scaffolded since."""
    names = list(stack_prefixes(root))
    later = names[names.index(name) + 1 :] if name in names else []
    return [other for other in later if (root / "services" / other).is_dir()]


def _topology_literal(root: Path, name: str) -> Any:
    # Parsed, not imported: the repository checked is `root`, which need not be the
    # one this interpreter imports from.
    for node in ast.parse((root / TOPOLOGY).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"{TOPOLOGY} has no {name}")


def taken_names(root: Path) -> dict[str, str]:
    """Every name a new service may not take, and where each is taken."""
    taken: dict[str, str] = dict(RESERVED)
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith("."):
            taken[path.name] = f"{path.name}/ is a directory of the repository"
        elif path.suffix == ".py":
            taken[path.stem] = f"{path.name} is a module of the repository"
    for folder in ("services", "tests/unit"):
        for path in sorted((root / folder).iterdir()):
            if path.is_dir() and not path.name.startswith(("_", ".")):
                taken.setdefault(path.name, f"{folder}/{path.name}/ exists")
    for name in stack_prefixes(root):
        taken.setdefault(name, f"{TOPOLOGY} already runs a process named {name}")
    for path in COMPOSE_FILES:
        for name in yaml.safe_load((root / path).read_text()).get("services", {}):
            taken.setdefault(name.replace("-", "_"), f"{path} has a service named {name}")
    for path in sorted((root / K8S).glob("*.yaml")):
        taken.setdefault(path.stem.replace("-", "_"), f"{path.relative_to(root)} exists")
    return taken
