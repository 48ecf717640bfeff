"""`/metrics`: readable by the networks allowed, by nobody with an empty list, by all with None."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client import Counter

from service_defaults.app import create_service_app
from service_defaults.metrics import create_metrics_handler, create_registry


@pytest.mark.parametrize(
    ("allowed_from", "status"),
    [
        (None, 200),
        ([], 404),
        (["203.0.113.0/24"], 404),
    ],
    ids=["unrestricted", "nobody", "another-network"],
)
async def test_metrics_answer_only_the_networks_allowed(
    allowed_from: Sequence[str] | None, status: int
) -> None:
    registry = create_registry()
    Counter("sample_events", "Events.", registry=registry).inc()
    app = create_service_app(
        title="t", route_handlers=[create_metrics_handler(registry, allowed_from=allowed_from)]
    )
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/metrics")

    assert response.status_code == status
    assert ("sample_events_total 1.0" in response.text) is (status == 200)
