"""`python -m devstack.trace_store`: the dev stack's OTLP/HTTP receiver, holding recent traces."""

from __future__ import annotations

import argparse
import asyncio
import logging
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, QueryParameter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from opentelemetry.util.re import parse_env_headers

from devstack.trace_buffer import DEFAULT_MAX_SPANS_PER_TRACE, DEFAULT_MAX_TRACES, TraceBuffer
from devstack.trace_forwarding import Forwarder, WarningThrottle, create_forward_client
from devstack.trace_spans import BadExport, parse_json, parse_protobuf, spans_of
from devstack.trace_view import RequestSummary, TraceBody
from service_defaults.health import create_health_handlers
from service_defaults.problems import PROBLEM_HANDLERS
from service_defaults.resources import Resources
from service_defaults.serve import serve
from service_defaults.settings import load_settings as load_prefixed

PREFIX = "TRACE_STORE_"
# Not 4318, the OTLP/HTTP port: that is where a developer's own collector or Jaeger
# listens, and the store then forwards to it instead of fighting it for the port.
DEFAULT_PORT = 8301
MAX_BODY_BYTES = 8 * 1024 * 1024
PROTOBUF = "application/x-protobuf"
log = logging.getLogger("frontdoor.trace_store")
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 (names compared, not bound)
_URL = msgspec.Meta(pattern=r"^(https?://[^\s/]+.*)?$")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_traces: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = DEFAULT_MAX_TRACES
    max_spans_per_trace: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = (
        DEFAULT_MAX_SPANS_PER_TRACE
    )
    # Where to pass every export on: a base URL as OTEL_EXPORTER_OTLP_ENDPOINT is
    # (`/v1/traces` is added), or the full URL as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is.
    forward_to: Annotated[str, _URL] = ""
    forward_traces_to: Annotated[str, _URL] = ""
    forward_headers: dict[str, str] = {}

    @property
    def forward_url(self) -> str:
        if self.forward_traces_to:
            return self.forward_traces_to
        return f"{self.forward_to.rstrip('/')}/v1/traces" if self.forward_to else ""

    def __post_init__(self) -> None:
        # Forwarding to itself would pass every export round for ever.
        target = urlsplit(self.forward_url)
        port = target.port or (443 if target.scheme == "https" else 80)
        if self.forward_url and target.hostname in {self.host, *_LOOPBACK} and port == self.port:
            raise ValueError(f"{PREFIX}FORWARD_TO: {self.forward_url} is this trace store itself")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """`TRACE_STORE_*` variables; forwarded exports carry the OTLP headers the
    environment gives exporters (an API key for a hosted collector, say)."""
    settings = load_prefixed(Settings, PREFIX, environ)
    headers = environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    if headers and not settings.forward_headers:
        return msgspec.structs.replace(
            settings, forward_headers=dict(parse_env_headers(headers, liberal=True))
        )
    return settings


def _decompressed(body: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise HTTPException(status_code=415, detail=f"Content-Encoding {encoding!r}: send gzip")
    inflate = zlib.decompressobj(wbits=31)
    try:
        plain = inflate.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise HTTPException(status_code=400, detail=f"not valid gzip: {exc}") from None
    if len(plain) > MAX_BODY_BYTES:
        raise HTTPException(status_code=413, detail=f"over {MAX_BODY_BYTES} bytes uncompressed")
    if not inflate.eof:
        raise HTTPException(status_code=400, detail="the gzip body is cut short")
    return plain


def _export_answer(content_type: str, rejected: int, dropped: int) -> Response[bytes]:
    """OTLP's answer; spans not kept are counted in its partial success (which the SDK's
    exporters ignore, and a collector in between may log)."""
    refused = rejected + dropped
    message = f"{rejected} spans without valid ids, {dropped} past the limit of spans per trace"
    if content_type == PROTOBUF:
        answer = ExportTraceServiceResponse()
        if refused:
            answer.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=refused, error_message=message)
            )
        return Response(answer.SerializeToString(), media_type=PROTOBUF)
    # OTLP/JSON writes 64-bit integers as strings.
    partial = {"partialSuccess": {"rejectedSpans": str(refused), "errorMessage": message}}
    return Response(msgspec.json.encode(partial if refused else {}), media_type=MediaType.JSON)


def create_app(settings: Settings, buffer: TraceBuffer | None = None) -> Litestar:
    traces = (
        buffer
        if buffer is not None
        else TraceBuffer(settings.max_traces, settings.max_spans_per_trace)
    )
    rejections = WarningThrottle()

    @asynccontextmanager
    async def open_forwarder() -> AsyncIterator[Forwarder | None]:
        log.info(
            "trace store: keeping the last %d traces%s",
            settings.max_traces,
            f", forwarding to {settings.forward_url}" if settings.forward_url else "",
        )
        if not settings.forward_url:
            yield None
            return
        async with create_forward_client() as http:
            forwarder = Forwarder(settings.forward_url, http, settings.forward_headers)
            async with _running(forwarder):
                yield forwarder

    resources = Resources(open_forwarder)

    @post("/v1/traces", status_code=200)
    async def receive_traces(request: Request[Any, Any, Any]) -> Response[bytes]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (PROTOBUF, MediaType.JSON):
            raise HTTPException(
                status_code=415, detail=f"send {PROTOBUF} or application/json, not {content_type!r}"
            )
        body = await request.body()
        encoding = request.headers.get("content-encoding", "").strip().lower()
        try:
            plain = _decompressed(body, encoding)
            export = parse_protobuf(plain) if content_type == PROTOBUF else parse_json(plain)
            decoded = spans_of(export)
        except BadExport as exc:
            rejections.warn("trace export refused: %s", exc)
            raise HTTPException(status_code=400, detail=str(exc)) from None
        dropped = traces.add(decoded.spans)
        forwarder = resources.get() if resources.started else None
        if forwarder is not None:
            forwarder.submit(body, request.headers["content-type"], encoding or None)
        return _export_answer(content_type, decoded.rejected, dropped)

    @post(["/v1/metrics", "/v1/logs"], status_code=200)
    async def discard(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Accepted and dropped: an exporter pointed here by mistake should not retry and warn."""
        json = request.headers.get("content-type", "").startswith(MediaType.JSON)
        return Response(b"{}" if json else b"", media_type=MediaType.JSON if json else PROTOBUF)

    @get("/api/requests")
    async def recent_requests(
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
    ) -> list[RequestSummary]:
        return traces.requests(limit)

    @get("/api/requests/{request_id:str}")
    async def request_trace(request_id: FromPath[str]) -> TraceBody:
        found = traces.request(request_id)
        if found is None:
            raise NotFoundException(detail=f"no trace holds request {request_id!r} (yet)")
        return found

    @get("/api/traces/{trace_id:str}")
    async def trace(trace_id: FromPath[str]) -> TraceBody:
        found = traces.trace(trace_id.lower())
        if found is None:
            raise NotFoundException(detail=f"trace {trace_id!r} is not held here")
        return found

    def info() -> dict[str, str]:
        forwarder = resources.get() if resources.started else None
        counts = {"traces": str(len(traces))}
        if forwarder is not None:
            counts |= {
                "forwarded": str(forwarder.forwarded),
                "forward_failed": str(forwarder.failed),
            }
        return counts

    return Litestar(
        route_handlers=[
            receive_traces,
            discard,
            recent_requests,
            request_trace,
            trace,
            *create_health_handlers({}, info),
        ],
        lifespan=[resources.lifespan],
        exception_handlers=PROBLEM_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
        logging_config=None,
    )


@asynccontextmanager
async def _running(forwarder: Forwarder) -> AsyncIterator[None]:
    task = asyncio.create_task(forwarder.run())
    try:
        yield
    finally:
        await forwarder.drain()
        task.cancel()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.trace_store",
        description="An OTLP/HTTP trace receiver that keeps recent traces for the edge's "
        f"/_dev/requests pages. Each option can also be set as {PREFIX}<OPTION>.",
    )
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--max-traces", type=int)
    parser.add_argument("--max-spans-per-trace", type=int)
    parser.add_argument(
        "--forward-to", metavar="URL", help="also send every export to URL/v1/traces"
    )
    parser.add_argument("--forward-traces-to", metavar="URL", help="also send every export to URL")
    given = {
        f"{PREFIX}{name.upper()}": str(value)
        for name, value in vars(parser.parse_args(argv)).items()
        if value is not None
    }
    serve("trace_store", lambda environ: load_settings({**environ, **given}), create_app)


if __name__ == "__main__":
    main()
