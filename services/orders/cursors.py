"""Page cursors: the (created_at, id) sort key of the last order on a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

# Microseconds since the epoch, then the order id. Clients pass a cursor back and
# never build one, but the document states its form exactly (empty is the first
# page): every string of this form is a cursor the service accepts.
CURSOR_PATTERN = "^([0-9]{1,16}-[0-9a-f]{32})?$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidCursor(ValueError):
    """The cursor is not of the form this service hands out."""


class CursorKey(NamedTuple):
    created_at: datetime  # aware, UTC
    id: str


def encode_cursor(key: CursorKey) -> str:
    return f"{(key.created_at - _EPOCH) // _MICROSECOND}-{key.id}"


def decode_cursor(cursor: str) -> CursorKey:
    if not cursor or _CURSOR.fullmatch(cursor) is None:
        raise InvalidCursor(cursor)
    micros, _, order_id = cursor.partition("-")
    # At most 16 digits: year 2286 at the latest, always a valid datetime.
    return CursorKey(created_at=_EPOCH + int(micros) * _MICROSECOND, id=order_id)
