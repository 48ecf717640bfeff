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


class NewUser(msgspec.Struct, frozen=True):
    """A user as `add_user` creates one; the password as long as a login accepts."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^\S+$")]
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern="@")]
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class User(msgspec.Struct, frozen=True):
    id: str
    username: str
    display_name: str
    email: str
    created_at: str
