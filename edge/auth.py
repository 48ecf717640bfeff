"""Bearer-token authentication at the edge: the token, then the route's audiences."""

from __future__ import annotations

from service_defaults.bearer import bearer_token
from service_defaults.tokens import InvalidToken, Principal, TokenVerifier


class AuthFailed(Exception):
    """No usable token; `challenge` is the WWW-Authenticate value to answer with."""

    def __init__(self, challenge: bytes) -> None:
        super().__init__(challenge.decode())
        self.challenge = challenge


class Authenticator:
    def __init__(self, verifier: TokenVerifier) -> None:
        # The verifier caches verified tokens until they expire.
        self.verifier = verifier

    async def authenticate(
        self, authorization: bytes | None, audiences: frozenset[str]
    ) -> Principal:
        token = bearer_token(authorization.decode("latin-1") if authorization else None)
        if token is None:
            raise AuthFailed(b"Bearer")
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken:
            raise AuthFailed(b'Bearer error="invalid_token"') from None
        # Every check above is per token; the audience is per route.
        if audiences.isdisjoint(principal.audiences):
            raise AuthFailed(b'Bearer error="invalid_token"')
        return principal
