"""A route-file reload replaces the edge's configuration as one object, or not at all."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from edge.app import reload_routes
from edge.edge_config import EdgeConfig
from edge.proxy import Proxy
from edge.settings import Settings
from service_defaults.tokens import JwksKeySource


def write_routes(path: Path, *routes: dict[str, Any]) -> None:
    path.write_text(json.dumps({"routes": list(routes)}))


def route(name: str, prefix: str, audience: str) -> dict[str, Any]:
    return {"name": name, "path": {"value": prefix}, "upstream": "users", "audiences": [audience]}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        tls_certfile="unused", tls_keyfile="unused", routes_file=str(tmp_path / "r.yaml")
    )


def reload(settings: Settings, proxy: Any) -> None:
    reload_routes(cast("Proxy", proxy), cast("JwksKeySource", object()), settings)


def test_a_reload_replaces_table_and_verifier_in_one_assignment(settings: Settings) -> None:
    write_routes(Path(settings.routes_file), route("old", "/old", "frontdoor"))
    proxy = SimpleNamespace(config=None)
    reload(settings, proxy)
    before = proxy.config
    write_routes(Path(settings.routes_file), route("new", "/new", "partners"))

    reload(settings, proxy)

    after = proxy.config
    assert isinstance(before, EdgeConfig) and isinstance(after, EdgeConfig)
    assert after is not before
    assert [r.name for r in after.routes.routes] == ["new"]
    # The verifier built for the new table's audiences came with it.
    assert after.authenticator.verifier is not before.authenticator.verifier
    assert [r.name for r in before.routes.routes] == ["old"], "the old object is left whole"


def test_a_broken_route_file_keeps_the_configuration_in_use(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    write_routes(Path(settings.routes_file), route("web", "/api", "frontdoor"))
    proxy = SimpleNamespace(config=None)
    reload(settings, proxy)
    in_use = proxy.config
    Path(settings.routes_file).write_text("routes: [{name: 7}]")

    with caplog.at_level(logging.ERROR, logger="frontdoor.edge"):
        reload(settings, proxy)

    assert proxy.config is in_use
    assert "route file not reloaded" in caplog.text
