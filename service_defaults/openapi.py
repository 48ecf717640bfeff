"""What every app's OpenAPI document declares the same way, and one answer litestar gets wrong."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
from litestar.enums import MediaType
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from service_defaults.problems import PROBLEM_JSON, Problem

BEARER_AUTH = "bearerAuth"
# For a Controller's or Router's `security`: litestar adds it to every operation below.
# Not set document-wide, because litestar cannot lift it again for a public operation.
BEARER: list[SecurityRequirement] = [{BEARER_AUTH: []}]
BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="JWT",
    description="An access token, sent as `Authorization: Bearer <token>`.",
)


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """One error answer, rendered by `service_defaults.problems` as application/problem+json."""
    if not 400 <= status <= 599:
        raise ValueError(f"{status} is not an error status; a problem is only sent for 4xx and 5xx")
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=description or HTTPStatus(status).phrase,
        # litestar would otherwise invent random example problems on every start.
        generate_examples=False,
    )


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """For a handler's `responses=`: `@get("/{id}", responses=problem_responses(401, 404))`.

    Also replaces litestar's automatic 400, which describes its own error body, not ours.
    """
    return {status: problem_response(status) for status in statuses}


def encoded_response(body: type[Any], description: str = "OK") -> ResponseSpec:
    """The 200 of a handler that encodes its JSON itself and returns `Response[bytes]`.

    litestar documents such a body as a string; this spec, under `responses={200: ...}`,
    replaces that (additional responses are applied after the success response).
    """
    return ResponseSpec(data_container=body, description=description, generate_examples=False)


class _JSONSchema(Schema):
    """A schema that is already JSON Schema (msgspec's), emitted as it is."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__()
        self._document = document

    def to_schema(self) -> dict[str, Any]:
        return self._document


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    # msgspec's `$ref`s point into its own `$defs`; inside an OpenAPI document they
    # would resolve against the document's root, so every one is replaced by its target.
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[1]], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def raw_json_body(body: type[msgspec.Struct]) -> type[Operation]:
    """The `operation_class` of a handler that reads `RawBody` and decodes `body` itself.

    litestar documents a request body only for a `data` parameter, and decodes `data`
    leniently ("1250" becomes 1250). A handler that decodes strictly with msgspec is
    documented here from msgspec's own schema of the type, so the document is
    written by the code that enforces it.
    """
    generated = msgspec.json.schema(body)
    defs = generated.pop("$defs", {})
    schema = _inline(generated, defs)

    @dataclass
    class RawJSONBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={MediaType.JSON.value: OpenAPIMediaType(schema=_JSONSchema(schema))},
                required=True,
            )

    return RawJSONBodyOperation


def create_openapi_config(title: str, *, version: str = "1") -> OpenAPIConfig:
    """The document at /schema/openapi.json (and /schema), and no HTML documentation pages.

    litestar's pages (Swagger UI, ReDoc, ...) load their scripts from public CDNs: offline,
    or behind a strict egress policy, they render blank, and in production they would run
    third-party code on the API's origin. Bundling one means a runtime dependency for a
    page no client of these APIs needs: any OpenAPI viewer can open the JSON.
    """
    return OpenAPIConfig(
        title=title,
        version=version,
        components=Components(security_schemes={BEARER_AUTH: BEARER_SCHEME}),
        render_plugins=[JsonRenderPlugin()],
    )


class AllowEveryMethod(ReceiveRoutePlugin):
    """Make the automatic `OPTIONS` answer list every method of its path.

    litestar 2 (#4169, fixed in 3) creates a path's OPTIONS handler when the path's
    first handler is registered and keeps it when more are added: with GET and POST
    on one path it answers `Allow: GET, OPTIONS`, or `Allow: OPTIONS, POST` in a
    Controller, whose handlers register in name order. Each finished route gets a
    fresh one, which reads the methods of the route it now belongs to.
    """

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            return
        current, _ = route.route_handler_map["OPTIONS"]
        if getattr(current.fn, "__qualname__", "") != _AUTOMATIC_OPTIONS:
            return  # the app's own OPTIONS handler: it answers for itself
        fresh = route.create_options_handler(route.path)
        fresh.owner = current.owner
        fresh.on_registration(current.app)
        route.route_handlers = [fresh if h is current else h for h in route.route_handlers]
        kwargs_model = fresh.create_kwargs_model(path_parameters=route.path_parameters)
        route.route_handler_map["OPTIONS"] = (fresh, kwargs_model)


_AUTOMATIC_OPTIONS = HTTPRoute.create_options_handler.__qualname__ + ".<locals>.options_handler"
