"""`create_app`: what stops the edge's start-up, which paths stay with Litestar, and the
headers on every answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from devstack.certs import ensure_dev_certificates
from edge.app import create_app
from edge.http_protocol import ProxiedRequests
from edge.settings import Settings
from service_defaults.settings import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[3]
ROUTES = REPO_ROOT / "infra" / "edge" / "routes.yaml"


def edge_settings(tmp_path: Path, **more: object) -> Settings:
    certs = ensure_dev_certificates(tmp_path / "certs")
    fields: dict[str, object] = {
        "tls_certfile": str(certs.cert_file),
        "tls_keyfile": str(certs.key_file),
        "routes_file": str(ROUTES),
    }
    return Settings(**{**fields, **more})  # type: ignore[arg-type]


@pytest.mark.parametrize("setting", ["tls_certfile", "tls_keyfile"])
def test_a_missing_certificate_or_key_stops_start_up_naming_its_setting(
    tmp_path: Path, setting: str
) -> None:
    settings = edge_settings(tmp_path, **{setting: str(tmp_path / "missing.pem")})

    with pytest.raises(ConfigError) as stopped:
        create_app(settings)

    assert str(stopped.value).startswith(f"EDGE_{setting.upper()}: ")
    assert "missing.pem" in str(stopped.value)


def test_a_broken_route_file_stops_start_up_naming_its_setting(tmp_path: Path) -> None:
    broken = tmp_path / "routes.yaml"
    broken.write_text('{"routes": [{"name": "x"}]}')

    with pytest.raises(ConfigError) as stopped:
        create_app(edge_settings(tmp_path, routes_file=str(broken)))

    assert str(stopped.value).startswith("EDGE_ROUTES_FILE: ")


async def test_the_edges_own_paths_stay_with_litestar_and_the_rest_go_to_the_proxy(
    tmp_path: Path,
) -> None:
    proxied = ProxiedRequests()
    app = create_app(edge_settings(tmp_path), proxied=proxied)

    assert proxied.proxy_for("/api/web/dashboard") is None, "no proxy before the lifespan"
    async with AsyncTestClient(app=app):
        for own in ("/livez", "/readyz", "/metrics"):
            assert proxied.proxy_for(own) is None, own
        assert proxied.proxy_for("/api/web/dashboard") is not None
        assert proxied.proxy_for("/livez/x") is not None, "only the exact paths are the edge's"
    assert proxied.proxy_for("/api/web/dashboard") is None, "closed with the lifespan"


@pytest.mark.parametrize(
    ("max_age", "hsts"), [(600, "max-age=600"), (0, None)], ids=["hsts", "no-hsts-at-zero"]
)
async def test_every_answer_carries_nosniff_and_the_configured_hsts(
    tmp_path: Path, max_age: int, hsts: str | None
) -> None:
    proxied = ProxiedRequests()
    app = create_app(edge_settings(tmp_path, hsts_max_age_s=max_age), proxied=proxied)

    async with AsyncTestClient(app=app) as client:
        own = (await client.get("/livez")).headers
        proxy_headers = {k.decode(): v.decode() for k, v in proxied.response_headers}

    for headers in (proxy_headers, own):
        assert headers["x-content-type-options"] == "nosniff"
        assert headers.get("strict-transport-security") == hsts
    assert "x-dev-timeline" not in proxy_headers, "no timeline without a trace store"
