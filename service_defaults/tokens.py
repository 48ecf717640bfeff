"""Bearer-token verification: PyJWT with an explicit algorithm allow-list and a cached JWKS."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

import httpx
import jwt
import msgspec

log = logging.getLogger("frontdoor.tokens")

DEFAULT_ALGORITHMS = ("ES256", "RS256")
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


class InvalidToken(Exception):
    """The token is malformed, unsigned by a known key, expired, or meant for someone else."""


class Principal(msgspec.Struct, frozen=True):
    """Who a verified token speaks for."""

    subject: str
    expires_at: int
    audiences: tuple[str, ...] = ()


class KeySource(Protocol):
    async def key_for(self, kid: str) -> jwt.PyJWK | None: ...

    @property
    def ready(self) -> bool: ...


class JwksKeySource:
    """Public keys fetched from a JWKS URL, cached with a TTL.

    An unknown `kid` triggers at most one refetch per `refetch_floor_s`, and
    concurrent misses share that one fetch: a flood of made-up kids costs the
    issuer nothing. When the issuer is down the keys already known stay in use.
    The fetch is a task of its own, shielded from its callers: a request cut off
    by its deadline mid-fetch must not leave every caller without keys until the
    next refetch is allowed. `on_fetch` hears each fetch's outcome (a metric).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        ttl_s: float = 300.0,
        refetch_floor_s: float = 10.0,
        on_fetch: Callable[[Literal["ok", "failed"]], None] = lambda _: None,
    ) -> None:
        self._client = client
        self._on_fetch = on_fetch
        self._url = url
        self._ttl_s = ttl_s
        self._floor_s = refetch_floor_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._fetching: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return bool(self._keys)

    async def ensure_loaded(self) -> bool:
        """Fetch the keys if none are known yet (a readiness check); True once some are."""
        if not self._keys and time.monotonic() - self._attempted_at >= self._floor_s:
            await self._refresh()
        return self.ready

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self._ttl_s
        missing = stale or kid not in self._keys
        # A fetch in flight may hold this kid too: wait for it rather than start one.
        if missing and (now - self._attempted_at >= self._floor_s or self._fetching is not None):
            await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if self._fetching is None:
            self._attempted_at = time.monotonic()
            self._fetching = asyncio.create_task(self._fetch())
            self._fetching.add_done_callback(self._fetched)
        await asyncio.shield(self._fetching)

    def _fetched(self, _: asyncio.Task[None]) -> None:
        self._fetching = None

    async def _fetch(self) -> None:
        try:
            response = await self._client.get(self._url)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise jwt.PyJWKSetError("the JWKS is not a JSON object")
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as exc:
            log.warning(
                "JWKS fetch from %s failed, keeping %d known keys: %s",
                self._url,
                len(self._keys),
                exc,
            )
            self._on_fetch("failed")
            return
        self._keys = {key.key_id: key for key in keys if key.key_id}
        self._fetched_at = time.monotonic()
        self._on_fetch("ok")


class TokenVerifier:
    """Verifies a compact JWS and returns the principal, or raises `InvalidToken`.

    A verified token is remembered until it expires: a signature check costs more
    than the rest of a small request, and a client sends the same token many times.
    """

    MAX_CACHED = 10_000

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str | Sequence[str],
        algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS,
        leeway_s: float = 30.0,
    ) -> None:
        self.keys = keys
        self._issuer = issuer
        # PyJWT accepts a token whose `aud` names any one of these.
        self._audience = audience if isinstance(audience, str) else list(audience)
        self._algorithms = algorithms
        self._leeway_s = leeway_s
        self._verified: dict[str, Principal] = {}

    async def verify(self, token: str) -> Principal:
        now = time.time()
        known = self._verified.get(token)
        if known is not None and known.expires_at > now:
            return known
        principal = await self._verify_signature_and_claims(token)
        if len(self._verified) >= self.MAX_CACHED:
            self._verified = {t: p for t, p in self._verified.items() if p.expires_at > now}
            if len(self._verified) >= self.MAX_CACHED:
                self._verified.clear()
        self._verified[token] = principal
        return principal

    async def _verify_signature_and_claims(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:  # not only DecodeError: a non-string kid, a crit header
            raise InvalidToken("malformed token") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self._algorithms or not isinstance(kid, str):
            raise InvalidToken("algorithm not allowed or key id missing")
        key = await self.keys.key_for(kid)
        # The key decides the algorithm, not the token: an RSA or HMAC header on
        # an EC key is refused here before PyJWT sees it.
        if key is None or key.algorithm_name != alg:
            raise InvalidToken("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from exc
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("subject must be a non-empty string")
        audience = claims["aud"]
        return Principal(
            subject=subject,
            expires_at=int(claims["exp"]),
            audiences=(audience,) if isinstance(audience, str) else tuple(audience),
        )
