"""Starting an app in-process, the way the server does, to see what its lifespan refuses."""

from __future__ import annotations

import pytest
from litestar import Litestar

from service_defaults.settings import ConfigError


async def start_and_stop(app: Litestar) -> None:
    async with app.lifespan():
        pass


def refuses_to_start(match: str) -> pytest.RaisesGroup[ConfigError]:
    """The ConfigError a lifespan raised; litestar's lifespan task group wraps it in a group."""
    return pytest.RaisesGroup(pytest.RaisesExc(ConfigError, match=match), flatten_subgroups=True)
