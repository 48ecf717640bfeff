"""Every deployable is built the same way, so that a copier learns one skeleton.

app.py      create_app(settings: Settings | None = None) -> Litestar, opening nothing
settings.py a frozen Settings and load_settings(environ)
routes.py   handlers with typed dependencies, never app.state
services:   tables.py and store.py too; BFFs: clients.py
"""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgspec
import pytest
import redis.asyncio
from litestar import Litestar

from devstack.certs import ensure_dev_certificates
from edge.rate_limits import RedisLimiter
from edge.upstream_client import UpstreamClient
from service_defaults import database
from services.users import signing_keys
from tests.databases import migrated

ROOT = Path(__file__).resolve().parents[2]
DEPLOYABLES = ("edge", "bff_web", "bff_mobile", "services.users", "services.orders")
SERVICES = ("services.users", "services.orders")
BFFS = ("bff_web", "bff_mobile")
CODE = (*DEPLOYABLES, "service_defaults", "bff_kit")


def files_of(package: str) -> set[str]:
    return {path.name for path in (ROOT / package.replace(".", "/")).glob("*.py")}


@pytest.mark.parametrize("package", DEPLOYABLES)
def test_deployable_has_the_skeleton_files(package: str) -> None:
    expected = {"app.py", "settings.py", "routes.py", "__main__.py"}
    if package in SERVICES:
        expected |= {"tables.py", "store.py", "schemas.py"}
    if package in BFFS:
        expected |= {"clients.py", "schemas.py"}

    assert expected <= files_of(package), f"{package} lacks {sorted(expected - files_of(package))}"


@pytest.mark.parametrize("package", DEPLOYABLES)
def test_create_app_takes_optional_settings_and_returns_litestar(package: str) -> None:
    create_app = importlib.import_module(f"{package}.app").create_app
    settings_module = importlib.import_module(f"{package}.settings")
    hints = typing.get_type_hints(create_app)
    first = next(iter(inspect.signature(create_app).parameters.values()))

    assert first.name == "settings" and first.default is None
    assert hints["settings"] == settings_module.Settings | None
    assert hints["return"] is Litestar
    # Anything after `settings` is a keyword-only seam for tests (a BFF's transport).
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None
        for p in list(inspect.signature(create_app).parameters.values())[1:]
    )


@pytest.mark.parametrize("package", DEPLOYABLES)
def test_settings_are_frozen_and_loaded_from_the_environment(package: str) -> None:
    module = importlib.import_module(f"{package}.settings")
    params = list(inspect.signature(module.load_settings).parameters)

    assert issubclass(module.Settings, msgspec.Struct)
    assert module.Settings.__struct_config__.frozen
    assert params == ["environ"]


# Objects whose `.state` is litestar's untyped, string-keyed application state.
STATE_OWNERS = {"app", "request", "connection", "socket"}


def state_reads(package: str) -> list[str]:
    """Every `app.state` read and every `State` parameter: handlers get typed dependencies."""
    found = []
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            owner = node.value if isinstance(node, ast.Attribute) else None
            owner_name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else None
            )
            reads_state = isinstance(node, ast.Attribute) and node.attr == "state"
            imports_state = isinstance(node, ast.ImportFrom) and any(
                alias.name == "State" for alias in node.names
            )
            if (reads_state and owner_name in STATE_OWNERS) or imports_state:
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}")
    return found


@pytest.mark.parametrize("package", CODE)
def test_no_code_reads_app_state(package: str) -> None:
    assert state_reads(package) == []


class Opened:
    """Counts the clients, engines and key rings constructed while it watches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.kinds: list[str] = []
        watched: list[tuple[Any, str]] = [
            (httpx.AsyncClient, "httpx client"),
            (aiohttp.ClientSession, "aiohttp session"),
            (redis.asyncio.Redis, "redis client"),
            (UpstreamClient, "upstream client"),
            (RedisLimiter, "redis limiter"),
            (database.Database, "database"),
            (signing_keys.KeyRing, "key ring"),
        ]
        for cls, kind in watched:
            monkeypatch.setattr(cls, "__init__", self._counting(cls.__init__, kind))

    def _counting(self, init: Callable[..., None], kind: str) -> Callable[..., None]:
        def counted(instance: Any, *args: Any, **kwargs: Any) -> None:
            self.kinds.append(kind)
            init(instance, *args, **kwargs)

        return counted


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opened]:
    yield Opened(monkeypatch)


def settings_for(package: str, tmp_path: Path) -> Any:
    module = importlib.import_module(f"{package}.settings")
    if package == "edge":
        certs = ensure_dev_certificates(tmp_path / "certs")
        return module.Settings(
            tls_certfile=str(certs.cert_file),
            tls_keyfile=str(certs.key_file),
            # A URL only: the client is built in the lifespan, and connects on first use.
            rate_limit_redis_url="redis://127.0.0.1:1/0",
        )
    if package.startswith("services."):
        tables = importlib.import_module(f"{package}.tables")
        database_url = migrated(f"sqlite:///{tmp_path}/service.db", tables.MIGRATIONS)
        if package == "services.orders":
            return module.Settings(database_url=database_url)
        return module.Settings(
            environment="dev",
            database_url=database_url,
            signing_keys_path=str(tmp_path / "keys.json"),
        )
    return module.Settings()


# What each deployable's lifespan must open, to prove the watcher sees it.
OPENS = {
    "edge": {"httpx client", "upstream client", "redis limiter"},
    "bff_web": {"httpx client"},
    "bff_mobile": {"httpx client"},
    "services.users": {"database", "key ring"},
    "services.orders": {"database", "httpx client"},
}


@pytest.mark.parametrize("package", DEPLOYABLES)
async def test_an_app_opens_its_resources_in_its_lifespan_only(
    package: str, tmp_path: Path, opened: Opened
) -> None:
    app = importlib.import_module(f"{package}.app").create_app(settings_for(package, tmp_path))
    built = list(opened.kinds)

    async with app.lifespan():
        started = set(opened.kinds)

    assert built == [], f"create_app opened {built}: open it in the lifespan"
    assert OPENS[package] <= started
