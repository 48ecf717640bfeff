"""`/livez` always answers; `/readyz` is 503 while a check fails, and shows facts that do not."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from service_defaults.app import create_service_app
from tests.unit.service_defaults.conftest import create_sample_app


async def passing(_: State) -> bool:
    return True


async def failing(_: State) -> bool:
    return False


async def test_livez_is_200_even_when_a_dependency_fails() -> None:
    async with AsyncTestClient(app=create_sample_app({"db": failing})) as client:
        response = await client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_naming_the_failing_check() -> None:
    app: Litestar = create_sample_app({"db": passing, "jwks": failing})
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "checks": {"db": "ok", "jwks": "failing"}}


async def test_readyz_is_200_when_every_check_passes() -> None:
    async with AsyncTestClient(app=create_sample_app({"db": passing})) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"db": "ok"}}


async def circuits(_: State) -> dict[str, str]:
    return {"circuit:orders": "open"}


async def test_readyz_shows_info_without_it_deciding_readiness() -> None:
    app = create_service_app(
        title="sample", route_handlers=[], readiness={"db": passing}, readiness_info=circuits
    )
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"db": "ok"},
        "info": {"circuit:orders": "open"},
    }
