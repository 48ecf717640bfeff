"""`EdgeConfig`: what a route-file reload replaces, as one immutable object.

The route table and the token verifier built for its audiences change together:
the proxy reads the configuration once per request, so a request sees the old
pair or the new one, never the new verifier with the old table.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.auth import Authenticator
from edge.routing import RouteTable


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    routes: RouteTable
    # Built for the audiences `routes` accept; each route then checks its own.
    authenticator: Authenticator
