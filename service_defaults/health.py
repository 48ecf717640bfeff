"""`/livez` (the process answers) and `/readyz` (its dependencies are usable)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler

from service_defaults.resources import Resources

ReadinessCheck = Callable[[], Awaitable[bool]]
# Facts shown in /readyz that do not decide readiness (a BFF's circuit states).
ReadinessInfo = Callable[[], dict[str, str]]
R = TypeVar("R")


class Pingable(Protocol):
    async def ping(self) -> bool: ...


def ping_check(resources: Resources[R], pick: Callable[[R], Pingable]) -> ReadinessCheck:
    """Ready while the picked resource (a database) answers; not ready before it is opened."""

    async def check() -> bool:
        return resources.started and await pick(resources.get()).ping()

    return check


def create_health_handlers(
    checks: Mapping[str, ReadinessCheck], info: ReadinessInfo | None = None
) -> list[HTTPRouteHandler]:
    """Liveness never looks at dependencies: a restart would not fix them."""

    @get("/livez", media_type=MediaType.JSON, sync_to_thread=False, include_in_schema=False)
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", media_type=MediaType.JSON, include_in_schema=False)
    async def readyz() -> Response[dict[str, object]]:
        results = {name: "ok" if await check() else "failing" for name, check in checks.items()}
        ready = all(result == "ok" for result in results.values())
        body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": results}
        if info is not None:
            body["info"] = info()
        return Response(body, status_code=200 if ready else 503)

    return [livez, readyz]
