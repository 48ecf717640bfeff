"""Request and response bodies of the users service."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec


class TokenRequest(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class User(msgspec.Struct, frozen=True):
    id: str
    username: str
    display_name: str
    email: str
    created_at: str
