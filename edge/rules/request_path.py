"""Rule: a path that could mean something else once decoded is a 400."""

from __future__ import annotations

from edge.refusal import Refused
from edge.routing import BadPath, validate_path


def checked_path(raw_path: bytes) -> str:
    """The decoded path, which every later rule and the route match read."""
    try:
        return validate_path(raw_path)
    except BadPath as exc:
        raise Refused(400, f"The request path is not acceptable: {exc}.") from None
