"""Opaque page cursors: the (created_at, id) sort key of the last order on a page."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

import msgspec


class InvalidCursor(ValueError):
    """The cursor was not one this service handed out."""


class CursorKey(msgspec.Struct, array_like=True, frozen=True):
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]
    id: str


def encode_cursor(key: CursorKey) -> str:
    # Opaque on purpose: clients pass it back and never build one, so its format may change.
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> CursorKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=CursorKey)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidCursor(cursor) from exc
