"""HTTP handlers: the token endpoint, the JWKS, and the owner's profile."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, JSONBody

from service_defaults.tokens import Principal
from services.users.passwords import unknown_user_hash, verify_password
from services.users.schemas import TokenRequest, TokenResponse, User
from services.users.settings import Settings
from services.users.signing_keys import KeyRing
from services.users.store import UserStore

NO_STORE = {"Cache-Control": "no-store"}
# The verified caller, injected by the "principal" dependency.
Caller = NamedDependency[Principal]


class AuthController(Controller):
    path = "/"

    @post("/auth/token", status_code=200)
    async def issue_token(
        self, data: JSONBody[TokenRequest], state: State
    ) -> Response[TokenResponse]:
        store: UserStore = state.store
        settings: Settings = state.settings
        found = await store.credentials(data.username)
        stored_hash = found[1] if found else unknown_user_hash()  # computed at startup
        # scrypt takes tens of milliseconds of CPU: off the event loop.
        matches = await asyncio.to_thread(verify_password, data.password, stored_hash)
        if found is None or not matches:
            raise NotAuthorizedException("Invalid username or password.", headers=NO_STORE)
        now = int(time.time())
        keys: KeyRing = state.key_ring
        token = keys.sign(
            {
                "iss": settings.token_issuer,
                "aud": settings.token_audience,
                "sub": found[0],
                "iat": now,
                "exp": now + settings.token_ttl_s,
                "jti": uuid.uuid4().hex,
            }
        )
        # RFC 6749 section 5.1: responses carrying tokens must not be cached.
        return Response(
            TokenResponse(access_token=token, expires_in=settings.token_ttl_s), headers=NO_STORE
        )

    @get("/.well-known/jwks.json", sync_to_thread=False)
    def jwks(self, state: State) -> Response[dict[str, Any]]:
        keys: KeyRing = state.key_ring
        # Short enough that verifiers see a rotated key well before old tokens expire.
        return Response(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


class UsersController(Controller):
    path = "/users"

    @get("/me")
    async def me(self, principal: Caller, state: State) -> User:
        return await self._owned(principal.subject, principal, state)

    @get("/{user_id:str}")
    async def by_id(self, user_id: FromPath[str], principal: Caller, state: State) -> User:
        return await self._owned(user_id, principal, state)

    async def _owned(self, user_id: str, principal: Principal, state: State) -> User:
        # Someone else's id answers exactly like an unknown one: no probing for ids.
        store: UserStore = state.store
        user = await store.get(user_id) if user_id == principal.subject else None
        if user is None:
            raise NotFoundException("No such user.")
        return user


async def delay_in_dev(request: Request[Any, Any, Any]) -> None:
    """Fault injection for workshops and tests; settings refuse it outside dev mode."""
    delay_ms = request.app.state.settings.dev_response_delay_ms
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
