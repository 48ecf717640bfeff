"""The settings every BFF has: where its services are, its time budget, its breakers."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service_defaults.metrics import LOOPBACK_NETWORKS


class BffSettings(msgspec.Struct, frozen=True, kw_only=True):
    """A BFF's own `Settings` adds its address and its prefix (`BFF_WEB_`, `BFF_MOBILE_`)."""

    # dev mode honours the X-Fault header (fault injection); production ignores it.
    environment: Literal["dev", "production"] = "production"
    # Direct internal addresses: a BFF never calls back through the edge.
    users_url: str = "http://127.0.0.1:8201"
    orders_url: str = "http://127.0.0.1:8202"
    # A screen's whole time budget, when the edge does not send a smaller one.
    request_budget_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    breaker_failure_threshold: Annotated[int, msgspec.Meta(ge=1)] = 5
    breaker_reset_after_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    # Who may read /metrics (JSON list of networks); everyone else gets a 404.
    # Each BFF's Settings checks it, naming its own variable.
    metrics_allowed_from: list[str] = msgspec.field(default_factory=lambda: [*LOOPBACK_NETWORKS])
