"""Deployables never import each other; the kit imports none of them; only BFFs use `bff_kit`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYABLES = ("edge", "bff_web", "bff_mobile", "services.users", "services.orders")
BFFS = ("bff_web", "bff_mobile")
KIT = "service_defaults"
BFF_KIT = "bff_kit"
# Everyone may use the kit; the kits and the dev supervisor use no deployable.
PACKAGES = (*DEPLOYABLES, KIT, BFF_KIT, "devstack")


def imported_modules(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        found |= modules_imported_by(path.read_text(), str(path))
    return found


def modules_imported_by(source: str, filename: str = "<source>") -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import could climb into a sibling deployable unseen.
            assert node.level == 0, f"{filename}:{node.lineno}: use an absolute import"
            if node.module:
                found.add(node.module)
    return found


def belongs_to(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def forbidden_imports(package: str, modules: set[str]) -> set[str]:
    """What `package` may not import: another deployable; `bff_kit` unless it is a BFF or
    `bff_kit` itself; for the shared kit, `bff_kit` too (the wing builds on the kit, not back)."""
    foreign = {
        module
        for module in modules
        for other in DEPLOYABLES
        if other != package and belongs_to(module, other)
    }
    if package not in (*BFFS, BFF_KIT):
        foreign |= {module for module in modules if belongs_to(module, BFF_KIT)}
    return foreign


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_its_place_allows(package: str) -> None:
    modules = imported_modules(package)
    assert modules, f"found no imports in {package}: is the path right?"

    foreign = forbidden_imports(package, modules)

    assert not foreign, f"{package} imports {sorted(foreign)}"


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("bff_web", "from services.orders.schemas import Order\n"),
        ("edge", "from bff_kit.fanout import Screen\n"),
        ("services.orders", "import bff_kit.upstreams\n"),
        ("service_defaults", "from bff_kit.errors import UpstreamError\n"),
    ],
)
def test_the_check_sees_a_forbidden_import(package: str, source: str) -> None:
    assert forbidden_imports(package, modules_imported_by(source))


def test_a_bff_may_use_the_bff_kit_and_the_kit() -> None:
    source = "from bff_kit.fanout import Screen\nimport service_defaults.settings\n"

    assert not forbidden_imports("bff_mobile", modules_imported_by(source))
    assert not belongs_to("services.ordersx", "services.orders")
