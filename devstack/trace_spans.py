"""OTLP trace export bodies (protobuf or JSON) decoded into plain span records."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import msgspec

# protobuf ships no type information; the generated OTLP classes (.pyi) do.
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as OtlpStatus

REQUEST_ID_ATTRIBUTE = "frontdoor.request_id"
UNKNOWN_SERVICE = "unknown_service"
Kind = Literal["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
StatusCode = Literal["UNSET", "OK", "ERROR"]
_KINDS: dict[int, Kind] = {
    OtlpSpan.SPAN_KIND_INTERNAL: "INTERNAL",
    OtlpSpan.SPAN_KIND_SERVER: "SERVER",
    OtlpSpan.SPAN_KIND_CLIENT: "CLIENT",
    OtlpSpan.SPAN_KIND_PRODUCER: "PRODUCER",
    OtlpSpan.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUSES: dict[int, StatusCode] = {
    OtlpStatus.STATUS_CODE_OK: "OK",
    OtlpStatus.STATUS_CODE_ERROR: "ERROR",
}


class BadExport(Exception):
    """The body is not an OTLP trace export request."""


class SpanEvent(msgspec.Struct, frozen=True):
    name: str
    time_unix_nano: int
    attributes: dict[str, object]


class SpanLink(msgspec.Struct, frozen=True):
    trace_id: str
    span_id: str
    attributes: dict[str, object]


class Span(msgspec.Struct, frozen=True):
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    kind: Kind
    start_unix_nano: int
    end_unix_nano: int
    status: StatusCode
    status_message: str
    attributes: dict[str, object]
    events: list[SpanEvent]
    links: list[SpanLink]
    scope: str = ""

    @property
    def request_id(self) -> str:
        value = self.attributes.get(REQUEST_ID_ATTRIBUTE)
        return value if isinstance(value, str) else ""


class Decoded(msgspec.Struct, frozen=True):
    spans: list[Span]
    rejected: int  # spans without a valid trace or span id


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    export = ExportTraceServiceRequest()
    try:
        export.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise BadExport(f"not an OTLP protobuf trace export: {exc}") from None
    return export


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON differs from protobuf's JSON mapping in one way: ids are hex, not base64."""
    try:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise BadExport("an OTLP JSON trace export is a JSON object")
        _ids_to_base64(document)
        export = ExportTraceServiceRequest()
        json_format.ParseDict(document, export, ignore_unknown_fields=True)
    except BadExport:
        raise
    except (ValueError, TypeError, AttributeError, RecursionError, json_format.ParseError) as exc:
        raise BadExport(f"not an OTLP JSON trace export: {exc}") from None
    return export


def _ids_to_base64(document: dict[str, Any]) -> None:
    for span in _json_spans(document):
        for owner in [span, *_objects(span.get("links"))]:
            for key in ("traceId", "spanId", "parentSpanId"):
                value = owner.get(key)
                if isinstance(value, str) and len(value) in (16, 32):
                    # Not hex: then protobuf's own mapping reads it, as base64.
                    with contextlib.suppress(ValueError):
                        owner[key] = base64.b64encode(bytes.fromhex(value)).decode()


def _json_spans(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in _objects(document.get("resourceSpans")):
        for scope in _objects(resource.get("scopeSpans")):
            yield from _objects(scope.get("spans"))


def _objects(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def spans_of(export: ExportTraceServiceRequest) -> Decoded:
    spans: list[Span] = []
    rejected = 0
    for resource_spans in export.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        service = resource.get("service.name")
        service_name = service if isinstance(service, str) and service else UNKNOWN_SERVICE
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8 or not any(span.trace_id):
                    rejected += 1
                    continue
                spans.append(_span(span, service_name, scope_spans.scope.name))
    return Decoded(spans=spans, rejected=rejected)


def _span(span: OtlpSpan, service: str, scope: str) -> Span:
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() if len(span.parent_span_id) == 8 else "",
        name=span.name,
        service=service,
        kind=_KINDS.get(span.kind, "UNSPECIFIED"),
        start_unix_nano=span.start_time_unix_nano,
        end_unix_nano=max(span.end_time_unix_nano, span.start_time_unix_nano),
        status=_STATUSES.get(span.status.code, "UNSET"),
        status_message=span.status.message,
        attributes=attributes_of(span.attributes),
        events=[
            SpanEvent(e.name, e.time_unix_nano, attributes_of(e.attributes)) for e in span.events
        ],
        links=[
            SpanLink(link.trace_id.hex(), link.span_id.hex(), attributes_of(link.attributes))
            for link in span.links
        ],
        scope=scope,
    )


def attributes_of(pairs: Iterable[KeyValue]) -> dict[str, object]:
    return {pair.key: value_of(pair.value) for pair in pairs}


def value_of(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return binascii.b2a_base64(value.bytes_value, newline=False).decode()
    return getattr(value, kind) if kind else None
