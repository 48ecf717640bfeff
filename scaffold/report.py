"""What the scaffold prints when it is done: what it created and changed, and what is
left to the person who asked for the service."""

from __future__ import annotations

from pathlib import Path

from scaffold.plan import Plan
from scaffold.service import NewService

# Where the new service's folders are made: services/<name>/, tests/unit/<name>/.
FOLDERS = (Path("services"), Path("tests/unit"))


def report(service: NewService, plan: Plan, formatting_problem: str | None) -> str:
    name, prefix = service.name, service.prefix
    created = _folders(plan.created)
    width = max(len(str(path)) for path in [*created, *map(str, plan.changed)])
    lines = [
        f"Added the {name} service: services/{name}/, settings {prefix}*, port {service.port}.",
        "",
        "Created:",
        *(f"  {path!s:<{width}}  {what}" for path, what in created.items()),
        "",
        "Changed:",
        *(
            f"  {path!s:<{width}}  {'; '.join(dict.fromkeys(plan.reasons[path]))}"
            for path in sorted(plan.changed)
        ),
    ]
    if formatting_problem:
        lines += [
            "",
            f"Not formatted ({formatting_problem}): run `.venv/bin/ruff check --fix --select I`",
            "and `.venv/bin/ruff format` on the Python files above.",
        ]
    lines += [
        "",
        "Next steps:",
        f"  make test   the whole suite, {name}'s own tests (tests/unit/{name}) among them",
        f"  make run    {name} starts with the stack, on http://127.0.0.1:{service.port}",
        f"  A BFF calls it: give bff_web (or bff_mobile) a client, {_class(name)}Client in",
        f"    clients.py, and a BFF_WEB_{prefix}URL setting, wired in devstack/topology.py,",
        "    compose and infra/k8s/bff.yaml.",
        f"  The edge has no route to it, on purpose: clients reach {name} through a BFF,",
        f"    and https://localhost:8443/{name} is a 404.",
        "  Its items are a starting point: change tables.py, then write the next migration:",
        f"    .venv/bin/alembic -c services/{name}/migrations/alembic.ini revision --autogenerate",
        "  Add it to the layout in docs/development.md.",
    ]
    return "\n".join(lines)


def _folders(created: dict[Path, str]) -> dict[str, str]:
    """The created files, each folder of them on one line."""
    shown: dict[str, str] = {}
    for path in created:
        folder = next((f for f in FOLDERS if f in path.parents), None)
        if folder is None:
            shown[str(path)] = "the Deployment, its init container and its Service"
        else:
            top = folder / path.relative_to(folder).parts[0]
            shown[f"{top}/"] = f"{sum(top in p.parents for p in created)} files"
    return shown


def _class(name: str) -> str:
    return "".join(word.capitalize() for word in name.split("_"))
