"""The litestar dependency that turns `Authorization: Bearer` into a verified principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from service_defaults.tokens import InvalidToken, Principal, TokenVerifier


def bearer_token(authorization: str | None) -> str | None:
    """The token from an `Authorization: Bearer <token>` value, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def missing_bearer() -> NotAuthorizedException:
    return NotAuthorizedException(
        "A bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
    )


async def provide_principal(
    request: Request[Any, Any, Any], token_verifier: NamedDependency[TokenVerifier]
) -> Principal:
    """Verify the caller's token; every failure is the same 401 (RFC 6750 section 3).

    `token_verifier` is the app's own dependency: each service verifies for itself.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise missing_bearer()
    try:
        return await token_verifier.verify(token)
    except InvalidToken:
        raise NotAuthorizedException(
            "The bearer token is invalid or expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
