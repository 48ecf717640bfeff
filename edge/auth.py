"""Bearer-token authentication at the edge, with verified tokens cached until they expire."""

from __future__ import annotations

import time

from service_defaults.bearer import bearer_token
from service_defaults.tokens import InvalidToken, Principal, TokenVerifier


class AuthFailed(Exception):
    """No usable token; `challenge` is the WWW-Authenticate value to answer with."""

    def __init__(self, challenge: bytes) -> None:
        super().__init__(challenge.decode())
        self.challenge = challenge


class Authenticator:
    MAX_CACHED = 10_000

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier
        self._verified: dict[str, Principal] = {}

    async def authenticate(
        self, authorization: bytes | None, audiences: frozenset[str]
    ) -> Principal:
        token = bearer_token(authorization.decode("latin-1") if authorization else None)
        if token is None:
            raise AuthFailed(b"Bearer")
        now = time.time()
        principal = self._verified.get(token)
        if principal is None or principal.expires_at <= now:
            try:
                principal = await self.verifier.verify(token)
            except InvalidToken:
                raise AuthFailed(b'Bearer error="invalid_token"') from None
            self._remember(token, principal, now)
        # Every check above is per token; the audience is per route.
        if audiences.isdisjoint(principal.audiences):
            raise AuthFailed(b'Bearer error="invalid_token"')
        return principal

    def _remember(self, token: str, principal: Principal, now: float) -> None:
        if len(self._verified) >= self.MAX_CACHED:
            self._verified = {t: p for t, p in self._verified.items() if p.expires_at > now}
            if len(self._verified) >= self.MAX_CACHED:
                self._verified.clear()
        self._verified[token] = principal
