"""Rule: a route that requires a token gets a valid one for its audience, else 401.

Two Authorization fields are a 400: the edge would check one, and a service behind
it might read the other.
"""

from __future__ import annotations

from edge.auth import Authenticator, AuthFailed
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route


async def authenticated_subject(
    authenticator: Authenticator, route: Route, fields: RequestFields
) -> str | None:
    """The token's subject; None on a route that needs no token."""
    if not route.auth_required:
        return None
    sent = fields.every(b"authorization")
    if len(sent) > 1:
        raise Refused(400, "Send one Authorization header, not several.")
    try:
        principal = await authenticator.authenticate(sent[0] if sent else None, route.audiences)
    except AuthFailed as failure:
        raise Refused(
            401, "A valid bearer token is required.", [(b"www-authenticate", failure.challenge)]
        ) from None
    return principal.subject
