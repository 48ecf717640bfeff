"""CORS per route, with an explicit origin allow-list, answered entirely at the edge."""

from __future__ import annotations

from dataclasses import dataclass

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class CorsPolicy:
    allow_origins: frozenset[str]
    allow_methods: frozenset[str]
    allow_headers: frozenset[str]  # lower-case
    expose_headers: tuple[str, ...]
    allow_credentials: bool
    max_age_s: int

    def allows_origin(self, origin: str) -> bool:
        return origin in self.allow_origins or (
            "*" in self.allow_origins and not self.allow_credentials
        )

    def preflight(self, origin: str, method: str, request_headers: str) -> Headers | None:
        """The preflight answer's headers, or None when the request must not be allowed."""
        asked = {h.strip().lower() for h in request_headers.split(",") if h.strip()}
        if (
            not self.allows_origin(origin)
            or method not in self.allow_methods
            or not asked <= self.allow_headers
        ):
            return None
        headers = self._origin_headers(origin)
        headers += [
            (b"access-control-allow-methods", ", ".join(sorted(self.allow_methods)).encode()),
            (b"access-control-max-age", str(self.max_age_s).encode()),
        ]
        if asked:
            headers.append((b"access-control-allow-headers", ", ".join(sorted(asked)).encode()))
        return headers

    def response_headers(self, origin: str) -> Headers:
        """Headers added to an actual (non-preflight) response for this origin."""
        if not self.allows_origin(origin):
            return [(b"vary", b"Origin")]
        headers = self._origin_headers(origin)
        if self.expose_headers:
            headers.append(
                (b"access-control-expose-headers", ", ".join(self.expose_headers).encode())
            )
        return headers

    def _origin_headers(self, origin: str) -> Headers:
        # The origin is echoed, never "*", and caches are told the answer varies by it.
        headers = [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        return headers
