"""`/livez` always answers; `/readyz` is 503 while a check fails, and shows facts that do not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service_defaults.app import create_service_app
from service_defaults.health import ping_check
from service_defaults.resources import Resources
from tests.unit.service_defaults.conftest import create_sample_app


async def passing() -> bool:
    return True


async def failing() -> bool:
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


def circuits() -> dict[str, str]:
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


class Answers:
    def __init__(self, answer: bool) -> None:
        self.answer = answer

    async def ping(self) -> bool:
        return self.answer


@asynccontextmanager
async def open_answers(answer: bool) -> AsyncIterator[Answers]:
    yield Answers(answer)


@pytest.mark.parametrize(("answer", "status"), [(True, 200), (False, 503)])
async def test_ping_check_follows_the_opened_resource(answer: bool, status: int) -> None:
    resources = Resources(lambda: open_answers(answer))
    app = create_service_app(
        title="sample",
        route_handlers=[],
        resources=resources,
        readiness={"db": ping_check(resources, lambda a: a)},
    )
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")

    assert response.status_code == status


async def test_ping_check_is_not_ready_before_the_resources_are_opened() -> None:
    resources = Resources(lambda: open_answers(True))

    assert await ping_check(resources, lambda a: a)() is False
