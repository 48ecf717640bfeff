"""Each deployable serves `/metrics` to loopback unless told otherwise; a bad list stops it."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from litestar import Litestar

from service_defaults.settings import ConfigError
from tests.unit.test_skeleton import DEPLOYABLES, settings_for

PREFIXES = {
    "edge": "EDGE_",
    "bff_web": "BFF_WEB_",
    "bff_mobile": "BFF_MOBILE_",
    "services.users": "USERS_",
    "services.orders": "ORDERS_",
}
# The edge cannot load without its certificate; the files are checked later, by create_app.
REQUIRED = {"EDGE_TLS_CERTFILE": "cert.pem", "EDGE_TLS_KEYFILE": "key.pem"}


async def fetch(app: Litestar, peer: str) -> httpx.Response:
    # Litestar's ASGI types are narrower than the plain mappings httpx names.
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        return await client.get("/metrics")


class MetricsSettings(Protocol):
    @property
    def metrics_allowed_from(self) -> list[str]: ...


def load(package: str, **variables: str) -> MetricsSettings:
    module = importlib.import_module(f"{package}.settings")
    settings: MetricsSettings = module.load_settings({**REQUIRED, **variables})
    return settings


@pytest.mark.parametrize("package", DEPLOYABLES)
async def test_every_app_serves_its_metrics_to_loopback_only(package: str, tmp_path: Path) -> None:
    app = importlib.import_module(f"{package}.app").create_app(settings_for(package, tmp_path))

    refused = await fetch(app, "10.0.0.7")
    await fetch(app, "127.0.0.1")
    served = await fetch(app, "127.0.0.1")

    assert refused.status_code == 404
    assert served.status_code == 200
    assert "process_resident_memory_bytes" in served.text
    # The scrapes are requests too, counted under their route.
    assert 'frontdoor_http_requests_total{method="GET",route="/metrics",status="200"}' in (
        served.text
    )
    assert 'frontdoor_http_requests_total{method="GET",route="/metrics",status="404"}' in (
        served.text
    )


@pytest.mark.parametrize("package", DEPLOYABLES)
def test_metrics_are_allowed_from_loopback_by_default(package: str) -> None:
    settings = load(package)

    assert settings.metrics_allowed_from == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize("package", DEPLOYABLES)
def test_the_allow_list_is_read_from_the_environment(package: str) -> None:
    variable = f"{PREFIXES[package]}METRICS_ALLOWED_FROM"

    settings = load(package, **{variable: '["10.0.0.0/8", "fd00::/8"]'})

    assert settings.metrics_allowed_from == ["10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize("value", ['["10.0.0.0/8", "nonsense"]', "10.0.0.0/8", '["10.0.0.0/8"'])
@pytest.mark.parametrize("package", DEPLOYABLES)
def test_a_bad_allow_list_stops_start_up_naming_the_variable(package: str, value: str) -> None:
    variable = f"{PREFIXES[package]}METRICS_ALLOWED_FROM"

    with pytest.raises(ConfigError, match=f"^{variable}"):
        load(package, **{variable: value})
