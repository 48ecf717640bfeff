"""HTTP handlers: the token endpoint, the JWKS, and the owner's profile."""

# No `from __future__ import annotations`: litestar reads handler annotations at runtime.
import asyncio
import time
import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, JSONBody

from service_defaults.openapi import BEARER, problem_responses
from service_defaults.tokens import Principal
from services.users.passwords import unknown_user_hash, verify_password
from services.users.schemas import TokenRequest, TokenResponse, User
from services.users.settings import Settings
from services.users.signing_keys import KeyRing
from services.users.store import UserStore

NO_STORE = {"Cache-Control": "no-store"}
# Injected by name from the app's dependencies.
Caller = NamedDependency[Principal]  # the verified caller
Store = NamedDependency[UserStore]
Keys = NamedDependency[KeyRing]
Config = NamedDependency[Settings]


class AuthController(Controller):
    path = "/"

    @post("/auth/token", status_code=200, responses=problem_responses(400, 401, 422))
    async def issue_token(
        self, data: JSONBody[TokenRequest], store: Store, key_ring: Keys, settings: Config
    ) -> Response[TokenResponse]:
        found = await store.credentials(data.username)
        stored_hash = found[1] if found else unknown_user_hash()  # computed at startup
        # scrypt takes tens of milliseconds of CPU: off the event loop.
        matches = await asyncio.to_thread(verify_password, data.password, stored_hash)
        if found is None or not matches:
            raise NotAuthorizedException("Invalid username or password.", headers=NO_STORE)
        now = int(time.time())
        token = key_ring.sign(
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
    def jwks(self, key_ring: Keys) -> Response[dict[str, Any]]:
        # Short enough that verifiers see a rotated key well before old tokens expire.
        return Response(key_ring.jwks(), headers={"Cache-Control": "public, max-age=300"})


class UsersController(Controller):
    path = "/users"
    security = BEARER

    @get("/me", responses=problem_responses(401, 404))
    async def me(self, principal: Caller, store: Store) -> User:
        return await _owned(principal.subject, principal, store)

    @get("/{user_id:str}", responses=problem_responses(400, 401, 404))
    async def by_id(self, user_id: FromPath[str], principal: Caller, store: Store) -> User:
        return await _owned(user_id, principal, store)


async def _owned(user_id: str, principal: Principal, store: UserStore) -> User:
    # Someone else's id answers exactly like an unknown one: no probing for ids.
    user = await store.get(user_id) if user_id == principal.subject else None
    if user is None:
        raise NotFoundException("No such user.")
    return user
