"""Strong ETags and 304s for the phone's read screens, cached privately only."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response

from service_defaults.server_spans import annotate_request

# Personal data: a browser or app may keep it, a shared cache never. no-cache
# means "ask first": with the ETag the answer is usually a body-less 304.
CACHE_CONTROL = "private, no-cache"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 section 13.1.2: If-None-Match compares weakly; `*` matches anything."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def cached_json(request: Request[Any, Any, Any], payload: msgspec.Struct) -> Response[bytes]:
    body = msgspec.json.encode(payload)
    etag = etag_for(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if matches(request.headers.get("if-none-match"), etag):
        annotate_request({"frontdoor.cache": "not_modified"})
        return Response(b"", status_code=304, headers=headers)
    if request.headers.get("if-none-match"):
        annotate_request({"frontdoor.cache": "changed"})  # the client's copy is stale
    return Response(body, media_type="application/json", headers=headers)
