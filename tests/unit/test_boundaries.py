"""Deployables never import each other; the shared kit imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYABLES = ("edge", "bff_web", "bff_mobile", "services.users", "services.orders")
# Everyone may use the kit; the kit and the dev supervisor use no deployable.
PACKAGES = (*DEPLOYABLES, "service_defaults", "devstack")


def imported_modules(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                # A relative import could climb into a sibling deployable unseen.
                assert node.level == 0, f"{path}:{node.lineno}: use an absolute import"
                if node.module:
                    found.add(node.module)
    return found


def belongs_to(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_no_deployable_but_itself(package: str) -> None:
    modules = imported_modules(package)
    assert modules, f"found no imports in {package}: is the path right?"

    foreign = {
        module
        for module in modules
        for other in DEPLOYABLES
        if other != package and belongs_to(module, other)
    }

    assert not foreign, f"{package} imports {sorted(foreign)}"


def test_the_check_sees_a_forbidden_import() -> None:
    source = "from services.orders.schemas import Order\n"
    tree = ast.parse(source)
    node = tree.body[0]

    assert isinstance(node, ast.ImportFrom) and node.module is not None
    assert belongs_to(node.module, "services.orders")
    assert not belongs_to("services.ordersx", "services.orders")
