"""`/livez` (the process answers) and `/readyz` (its dependencies are usable)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from litestar import MediaType, Response, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler

ReadinessCheck = Callable[[State], Awaitable[bool]]
# Facts shown in /readyz that do not decide readiness (a BFF's circuit states).
ReadinessInfo = Callable[[State], Awaitable[dict[str, str]]]


def create_health_handlers(
    checks: Mapping[str, ReadinessCheck], info: ReadinessInfo | None = None
) -> list[HTTPRouteHandler]:
    """Liveness never looks at dependencies: a restart would not fix them."""

    @get("/livez", media_type=MediaType.JSON, sync_to_thread=False, include_in_schema=False)
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", media_type=MediaType.JSON, include_in_schema=False)
    async def readyz(state: State) -> Response[dict[str, object]]:
        results = {
            name: "ok" if await check(state) else "failing" for name, check in checks.items()
        }
        ready = all(result == "ok" for result in results.values())
        body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": results}
        if info is not None:
            body["info"] = await info(state)
        return Response(
            body,
            status_code=200 if ready else 503,
        )

    return [livez, readyz]
