"""`NewService`: the names one new service goes by in code, settings, compose and Kubernetes."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

# The services listen on 82xx under `make run` (users 8201, orders 8202).
FIRST_SERVICE_PORT = 8201


@dataclass(frozen=True)
class NewService:
    name: str  # the package under services/, the compose service, its database and role
    port: int  # its default port, and the one `make run` gives it

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def k8s_name(self) -> str:
        # Kubernetes names are DNS labels, which have no underscores (bff_web is bff-web).
        return self.name.replace("_", "-")

    def placeholders(self) -> dict[str, str]:
        """What `$name`, `$NAME`, `$k8s_name`, `$port` and `$test_password` stand for."""
        return {
            "name": self.name,
            "NAME": self.name.upper(),
            "k8s_name": self.k8s_name,
            "port": str(self.port),
            # The compose tests' stand-in for the database password an operator exports:
            # hex like a real one, and different for every service.
            "test_password": hashlib.sha256(self.name.encode()).hexdigest()[:8],
        }


def next_free_port(taken: Collection[int]) -> int:
    port = FIRST_SERVICE_PORT
    while port in taken:
        port += 1
    return port
