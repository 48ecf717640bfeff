"""The dev-only fault-injection header never passes a production edge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["dev", "production"])
def edge(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EdgeUnderTest, str]]:
    mode: str = request.param
    directory = tmp_path_factory.mktemp(f"edge-{mode}")
    with edge_under_test(directory, settings={"EDGE_ENVIRONMENT": mode}) as running:
        yield running, mode


def test_x_fault_reaches_the_bffs_only_from_a_dev_edge(edge: tuple[EdgeUnderTest, str]) -> None:
    running, mode = edge
    with running.client() as client:
        response = client.get("/open/x", headers={"X-Fault": "orders=down"})

    received = {name for name, _ in response.json()["headers"]}
    assert ("x-fault" in received) == (mode == "dev")
