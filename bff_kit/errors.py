"""The errors a BFF's call to a service can end in, as the BFF's own client sees them.

    HTTPException (litestar)
    └── UpstreamError: 502 when the service fails or answers garbage,
                       503 when its circuit is open, 504 when the deadline runs out

A 400, 401, 403, 404, 409 or 422 from the service is the caller's answer too: it
is raised as a plain HTTPException with the service's detail, never degraded.
"""

from __future__ import annotations

from litestar.exceptions import HTTPException


class UpstreamError(HTTPException):
    """A service failed the BFF: an optional section degrades, a required one fails the screen."""

    status_code = 502


# What an UpstreamError can answer, for the BFFs' OpenAPI documents.
UPSTREAM_FAILURES = (502, 503, 504)
