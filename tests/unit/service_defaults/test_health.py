"""`/livez` always answers; `/readyz` answers 503 while a readiness check fails."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

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
