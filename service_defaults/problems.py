"""RFC 9457 problem+json responses: every error a client sees, none with a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import (
    ExceptionHandlersMap,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Send,
)

from service_defaults.request_context import current_request_id

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("frontdoor.problems")


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    # "about:blank" tells clients the status code is the whole meaning; `title`
    # is then the status phrase, as RFC 9457 section 4.2.1 asks.
    status: int
    title: str
    detail: str
    type: str = "about:blank"
    instance: str = ""
    request_id: str = ""
    errors: list[FieldError] = []


def render_problem(
    status: int,
    detail: str,
    *,
    instance: str = "",
    errors: list[FieldError] | None = None,
    request_id: str | None = None,
) -> bytes:
    """The problem+json body, for code that answers outside a litestar handler; its
    request id is the current request's unless `request_id` names one."""
    return msgspec.json.encode(
        Problem(
            status=status,
            title=HTTPStatus(status).phrase,
            detail=detail,
            instance=instance,
            request_id=current_request_id() if request_id is None else request_id,
            errors=errors or [],
        )
    )


def _field_errors(extra: Any) -> list[FieldError]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        message = str(item.get("message", "invalid"))
        field = str(item.get("key", ""))
        # msgspec names a missing field only inside its message; surface it.
        if "required field `" in message:
            field = message.split("required field `")[1].split("`")[0]
        errors.append(FieldError(field=field, message=message))
    return errors


def _problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    headers: dict[str, str] = {}
    errors: list[FieldError] = []
    if isinstance(exc, ValidationException) and exc.extra:
        # Well-formed input with wrong or missing fields is unprocessable (422);
        # malformed JSON arrives without field errors and stays a plain 400.
        errors = _field_errors(exc.extra)
        status = 422
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail
        headers = dict(exc.headers or {})
        # Field errors relayed from a service (a BFF passing a 422 through).
        errors = _field_errors(exc.extra)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status = 500
        detail = "The server could not handle this request."
    if status >= 500 and isinstance(exc, HTTPException) and exc.detail == HTTPStatus(status).phrase:
        detail = "The server could not handle this request."
    return Response(
        content=render_problem(status, detail, instance=request.url.path, errors=errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


PROBLEM_HANDLERS: ExceptionHandlersMap = {Exception: _problem_response}


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    *,
    instance: str = "",
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with a problem from raw ASGI code (a proxy, a middleware), outside any handler."""
    body = render_problem(status, detail, instance=instance)
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
