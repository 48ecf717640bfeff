"""Calls from a BFF to a service: JSON into the caller's own Structs, failures as HTTP errors.

    HTTPException (litestar)
    └── UpstreamError: 502 when the service is unreachable or answers garbage, 504 when it is slow

A 401 or 404 from the service is the caller's answer too and passes through as such.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
import msgspec
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException

T = TypeVar("T")
log = logging.getLogger("frontdoor.upstream")


class UpstreamError(HTTPException):
    status_code = 502


async def call_json(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    result_type: type[T],
    *,
    headers: Mapping[str, str],
    params: Mapping[str, str | int] | None = None,
    body: msgspec.Struct | None = None,
) -> T:
    service = client.base_url.host
    try:
        response = await client.request(
            method,
            path,
            headers={**headers, **({"content-type": "application/json"} if body else {})},
            params=params,
            content=msgspec.json.encode(body) if body is not None else None,
        )
    except httpx.TimeoutException:
        raise UpstreamError(status_code=504, detail="A service did not answer in time.") from None
    except httpx.RequestError as exc:
        log.warning("%s %s on %s failed: %r", method, path, service, exc)
        raise UpstreamError(detail="A service is unavailable.") from None
    if response.status_code == 401:
        raise NotAuthorizedException(
            "The bearer token is invalid or expired.",
            headers={"WWW-Authenticate": response.headers.get("www-authenticate", "Bearer")},
        )
    if response.status_code == 404:
        raise NotFoundException(_detail(response) or "Not found.")
    if response.status_code >= 400:
        log.warning("%s %s on %s answered %d", method, path, service, response.status_code)
        raise UpstreamError(detail="A service failed to answer.")
    try:
        return msgspec.json.decode(response.content, type=result_type)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        log.error("%s %s on %s answered an unexpected body: %s", method, path, service, exc)
        raise UpstreamError(detail="A service answered with an unexpected body.") from None


def _detail(response: httpx.Response) -> str:
    try:
        problem: Any = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return ""
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return detail if isinstance(detail, str) else ""
