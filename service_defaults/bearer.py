"""The litestar dependency that turns `Authorization: Bearer` into a verified principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from service_defaults.tokens import InvalidToken, Principal, TokenVerifier


def bearer_token(authorization: str | None) -> str | None:
    """The token from an `Authorization: Bearer <token>` value, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def provide_authorization(request: Request[Any, Any, Any]) -> str:
    """The caller's `Authorization` header, to forward as is.

    A BFF does not verify the token: the services it calls do, each for itself.
    It only refuses to make calls that are bound to fail.
    """
    authorization = request.headers.get("authorization")
    if authorization is None or bearer_token(authorization) is None:
        raise NotAuthorizedException(
            "A bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
        )
    return authorization


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Verify the caller's token; every failure is the same 401 (RFC 6750 section 3)."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise NotAuthorizedException(
            "A bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify(token)
    except InvalidToken:
        raise NotAuthorizedException(
            "The bearer token is invalid or expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
