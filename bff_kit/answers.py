"""Reading a service's answer: the body decoded into the BFF's own Struct, or the right error."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import httpx
import msgspec
from litestar.exceptions import HTTPException

from bff_kit.errors import UpstreamError

T = TypeVar("T")
log = logging.getLogger("frontdoor.upstream")

# The caller's own mistakes, as the service judged them: passed on with its detail.
PASSED_THROUGH = frozenset({400, 401, 403, 404, 409, 422})


def decode(response: httpx.Response, result_type: type[T], *, service: str) -> T:
    """The answer's body as `result_type`; any failed answer raised as the BFF's error."""
    raise_for_answer(response, service=service)
    try:
        return msgspec.json.decode(response.content, type=result_type)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        log.error("%s on %s answered an unexpected body: %s", _what(response), service, exc)
        raise UpstreamError(
            detail=f"The {service} service answered with an unexpected body."
        ) from None


def raise_for_answer(response: httpx.Response, *, service: str) -> None:
    """The one mapping of a service's failed answer to what the BFF's caller is told."""
    status = response.status_code
    if status < 400:
        return
    if status in PASSED_THROUGH:
        headers = {}
        if "www-authenticate" in response.headers:
            headers["WWW-Authenticate"] = response.headers["www-authenticate"]
        problem = _problem(response)
        detail = problem.get("detail")
        raise HTTPException(
            status_code=status,
            detail=detail if isinstance(detail, str) and detail else "The request was refused.",
            headers=headers,
            extra=_field_errors(problem),
        )
    if status == 503:
        raise UpstreamError(detail=f"The {service} service is unavailable.")
    if status == 504:  # the budget handed down ran out there
        raise UpstreamError(
            status_code=504, detail=f"The {service} service did not answer in time."
        )
    if status >= 500:
        raise UpstreamError(detail=f"The {service} service failed to answer.")
    log.warning("%s on %s answered %d", _what(response), service, status)
    raise UpstreamError(detail=f"The {service} service refused the request.")


def _what(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        problem: Any = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return {}
    return problem if isinstance(problem, dict) else {}


def _field_errors(problem: dict[str, Any]) -> list[dict[str, str]] | None:
    """Field errors of a 422, as the service named them, for the BFF's own problem."""
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return None
    return [
        {"key": str(e.get("field", "")), "message": str(e.get("message", ""))}
        for e in errors
        if isinstance(e, dict)
    ]
