"""The plan on this repository: every anchor found, the new files rendered, services
lined up in the order they were added, and a moved anchor stopping it unwritten."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffold.__main__ import main
from scaffold.formatting import format_python
from scaffold.plan import Plan, PlanError, make_plan, write_plan
from scaffold.repository import stack_ports
from scaffold.service import NewService, next_free_port
from scaffold.template_files import fill, render_files

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = NewService("inventory", port=8203)
LEFT_OVER = re.compile(r"\$\{?(name|NAME|k8s_name|port|test_password)\b")


def partial_copy(target: Path, plan: Plan) -> None:
    """What a plan reads, copied: the files it edits and the folders the name check scans."""
    for path in [*plan.changed, Path("pyproject.toml")]:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target / path)
    for folder in ("services/users", "services/orders", "tests/unit/orders"):
        (target / folder).mkdir(parents=True, exist_ok=True)


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_every_edit_finds_its_anchor_in_this_repository() -> None:
    plan = make_plan(ROOT, INVENTORY)

    assert {"devstack/topology.py", "infra/k8s/network-policies.yaml"} <= set(
        map(str, plan.changed)
    )
    for path, text in plan.changed.items():
        assert text != (ROOT / path).read_text(), path
        assert "inventory" in text or "INVENTORY" in text, path
    assert Path("services/inventory/app.py") in plan.created
    assert Path("tests/unit/inventory/test_routes.py") in plan.created
    assert Path("infra/k8s/inventory.yaml") in plan.created


def test_the_new_files_fill_every_placeholder_and_keep_everyone_elses() -> None:
    files = render_files(INVENTORY)

    assert [path for path, text in files.items() if LEFT_OVER.search(text)] == []
    # Alembic's own template, with its Mako `${...}`, is copied as it is.
    mako = Path("services/inventory/migrations/script.py.mako")
    assert files[mako] == (ROOT / "services/orders/migrations/script.py.mako").read_text()
    assert fill("${FRONTDOOR_OTLP_ENDPOINT:-} $(openssl) $name ${NAME}_PORT", INVENTORY) == (
        "${FRONTDOOR_OTLP_ENDPOINT:-} $(openssl) inventory INVENTORY_PORT"
    )


def test_a_name_with_underscores_is_hyphenated_where_kubernetes_needs_it() -> None:
    plan = make_plan(ROOT, NewService("stock_levels", port=8203))

    manifest = plan.created[Path("infra/k8s/stock-levels.yaml")]
    [deployment, service] = yaml.safe_load_all(manifest)
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == "stock-levels"
    assert "args: [services.stock_levels]" in manifest
    compose = yaml.safe_load(plan.changed[Path("infra/compose/compose.yaml")])
    assert {"stock_levels", "stock_levels-migrate"} <= set(compose["services"])
    relabelled = plan.changed[Path("infra/observability/prometheus-kubernetes.yml")]
    assert "regex: stock-levels\n        replacement: stock_levels" in relabelled


def test_services_line_up_in_the_order_they_were_added(tmp_path: Path) -> None:
    first = make_plan(ROOT, INVENTORY)
    partial_copy(tmp_path, first)
    write_plan(tmp_path, first)
    assert format_python(tmp_path, first.python_files) is None

    stock = NewService("stock", port=next_free_port(stack_ports(tmp_path).values()))
    write_plan(tmp_path, make_plan(tmp_path, stock))

    assert list(stack_ports(tmp_path).items())[-3:] == [
        ("orders", 8202),
        ("inventory", 8203),
        ("stock", 8204),
    ]
    resources = yaml.safe_load((tmp_path / "infra/k8s/kustomization.yaml").read_text())
    assert resources["resources"][3:6] == ["orders.yaml", "inventory.yaml", "stock.yaml"]
    init = (tmp_path / "infra/k8s/postgres-init.sh").read_text()
    assert "for service in users orders inventory stock; do" in init


def test_a_moved_anchor_stops_the_scaffold_before_it_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial_copy(tmp_path, make_plan(ROOT, INVENTORY))
    kustomization = tmp_path / "infra/k8s/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - orders.yaml\n", ""))
    before = snapshot(tmp_path)

    with pytest.raises(PlanError, match=r"^infra/k8s/kustomization\.yaml: '  - orders\.yaml'"):
        make_plan(tmp_path, INVENTORY)
    assert main(["inventory"], root=tmp_path) == 1

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("new-service: nothing written: infra/k8s/kustomization.yaml")
    assert snapshot(tmp_path) == before


def test_the_longest_name_still_fits_the_line_length(tmp_path: Path) -> None:
    service = NewService("a" * 15 + "_" + "b" * 14, port=8203)
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    plan = Plan(created=render_files(service))
    write_plan(tmp_path, plan)

    assert format_python(tmp_path, plan.python_files) is None
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "E501", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
