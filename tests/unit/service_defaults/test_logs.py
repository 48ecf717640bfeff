"""Log lines: one JSON object each with the shared fields, hostile values kept inside it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from service_defaults.app import create_service_app
from service_defaults.logs import JsonFormatter, TextFormatter, create_formatter, redact
from service_defaults.request_context import (
    Access,
    current_request_id,
    log_access,
    reset_request_id,
    set_request_id,
)
from service_defaults.settings import ConfigError

RFC3339_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVz"
log = logging.getLogger("frontdoor.test")

Lines = Callable[[], list[dict[str, Any]]]


def capture_on(logger: logging.Logger, formatter: logging.Formatter) -> Iterator[io.StringIO]:
    """What `logger` writes through `formatter`, at INFO, while the test runs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def capture(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    return capture_on(logging.getLogger(), formatter)


@pytest.fixture
def raw() -> Iterator[io.StringIO]:
    yield from capture(JsonFormatter("sample"))


@pytest.fixture
def lines(raw: io.StringIO) -> Lines:
    def parsed() -> list[dict[str, Any]]:
        return [json.loads(line) for line in raw.getvalue().split("\n") if line]

    return parsed


@get("/warn", sync_to_thread=False)
def warn() -> None:
    log.warning("the orders service answered garbage")


@get("/fail", sync_to_thread=False)
def fail() -> None:
    raise RuntimeError('a bug with a quote " and a\nnewline')


def sample_app() -> Litestar:
    return create_service_app(title="t", route_handlers=[warn, fail])


def test_a_line_is_one_json_object_with_the_shared_fields(lines: Lines) -> None:
    log.info("hello %s", "world")

    [line] = lines()
    assert line == {
        "time": line["time"],
        "level": "INFO",
        "service": "sample",
        "logger": "frontdoor.test",
        "message": "hello world",
    }
    assert RFC3339_MS.fullmatch(line["time"])


async def test_the_access_line_has_the_request_fields(lines: Lines) -> None:
    async with AsyncTestClient(app=sample_app()) as client:
        await client.get("/livez", headers={"X-Request-Id": "access-1"})

    [access] = [line for line in lines() if line.get("event") == "request"]
    assert access["logger"] == "frontdoor.access"
    assert access["request_id"] == "access-1"
    assert (access["method"], access["route"], access["path"]) == ("GET", "/livez", "/livez")
    assert access["status"] == 200
    assert access["message"] == "GET /livez 200"
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert isinstance(access["start"], float)
    assert "client" not in access  # the edge alone knows the client's address


async def test_lines_logged_during_a_request_carry_its_request_id(lines: Lines) -> None:
    async with AsyncTestClient(app=sample_app()) as client:
        await client.get("/warn", headers={"X-Request-Id": "warned-1"})

    [warning] = [line for line in lines() if line["level"] == "WARNING"]
    assert warning["message"] == "the orders service answered garbage"
    assert warning["request_id"] == "warned-1"


async def test_an_unhandled_error_is_one_line_with_the_traceback_in_one_field(
    lines: Lines, raw: io.StringIO
) -> None:
    async with AsyncTestClient(app=sample_app()) as client:
        response = await client.get("/fail", headers={"X-Request-Id": "failed-1"})

    assert response.status_code == 500
    [error] = [line for line in lines() if line["level"] == "ERROR"]
    assert error["request_id"] == "failed-1"
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert 'RuntimeError: a bug with a quote " and a\nnewline' in error["exception"]
    assert len(raw.getvalue().splitlines()) == len(lines())


def test_trace_and_span_ids_come_from_the_current_span(lines: Lines) -> None:
    context = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with trace.use_span(NonRecordingSpan(context)):
        log.info("inside a span")
    log.info("outside any span")

    inside, outside = lines()
    assert inside["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert inside["span_id"] == "00f067aa0ba902b7"
    assert "trace_id" not in outside and "span_id" not in outside


@pytest.mark.parametrize(
    "hostile",
    [
        'quote " backslash \\ brace }',
        "newline\nFORGED {}",
        "carriage\rreturn",
        "escape \x1b[31mred",
        "unicode line separator \u2028FORGED",
        "next line \x85FORGED",
        "lone surrogate \udcff from a file name",
    ],
    ids=["quote", "newline", "cr", "ansi", "u2028", "nel", "surrogate"],
)
def test_hostile_text_stays_inside_its_one_line(
    lines: Lines, raw: io.StringIO, hostile: str
) -> None:
    log.warning("client sent %s", hostile)

    assert len(raw.getvalue().splitlines()) == 1
    [line] = lines()
    assert line["message"] == f"client sent {hostile}"


@pytest.mark.parametrize(
    "leak",
    [
        f"Authorization: Bearer {TOKEN}",
        f"headers {{'authorization': 'Bearer {TOKEN}'}}",
        f"a token {TOKEN} in a message",
        "Cookie: session=0123456789abcdef",
        "cookie=0123456789abcdef",
        "AUTHORIZATION: Basic 0123456789abcdef",
        "Authorization: Token 0123456789abcdef",
        "Cookie: theme=dark; session=0123456789abcdef",
        "password=0123456789abcdef&username=alice",
        '{"username": "alice", "password": "0123456789abcdef"}',
    ],
)
def test_credentials_in_a_message_are_redacted(lines: Lines, leak: str) -> None:
    log.warning("refused: %s", leak)

    [line] = lines()
    assert TOKEN not in line["message"]
    assert "0123456789abcdef" not in line["message"]
    assert "[redacted]" in line["message"]


def test_text_without_credentials_is_left_as_it_is() -> None:
    text = "JWKS fetch from http://127.0.0.1:8201/.well-known/jwks.json failed"

    assert redact(text) is text


def test_credentials_in_an_exception_are_redacted(lines: Lines) -> None:
    try:
        raise ValueError(f"bad header Bearer {TOKEN}")
    except ValueError:
        log.exception("verification failed")

    [line] = lines()
    assert TOKEN not in line["exception"]
    assert "Bearer [redacted]" in line["exception"]


def test_arguments_that_do_not_fit_the_format_still_give_a_json_line() -> None:
    # A logger of its own: pytest's capturing handler on the root would fail first.
    alone = logging.getLogger("frontdoor.test.alone")
    alone.propagate = False
    for out in capture_on(alone, JsonFormatter("sample")):
        alone.info("%d items", "many")
        text = out.getvalue()

    [line] = text.splitlines()
    assert json.loads(line)["message"].startswith("%d items")


def test_text_format_is_a_line_for_people_with_the_request_fields() -> None:
    access = Access(
        method="GET",
        route="/orders",
        path="/orders",
        status=200,
        duration_ms=12.34,
        start=1_700_000_000.5,
        client="203.0.113.9",
    )
    record = logging.LogRecord("frontdoor.access", logging.INFO, "", 0, access, (), None)

    line = TextFormatter().format(record)

    assert re.fullmatch(
        r"\S+ \S+ INFO frontdoor.access: GET /orders 200 route=/orders "
        r"start=1700000000\.500000 duration_ms=12\.3 client=203\.0\.113\.9",
        line,
    ), line


async def test_text_format_puts_the_request_id_on_lines_of_a_request() -> None:
    for out in capture(TextFormatter()):
        async with AsyncTestClient(app=sample_app()) as client:
            await client.get("/warn", headers={"X-Request-Id": "text-1"})
        text = out.getvalue()

    [warning] = [line for line in text.splitlines() if " WARNING " in line]
    assert warning.endswith("the orders service answered garbage rid=text-1")


@pytest.mark.parametrize(
    ("value", "kind"), [(None, JsonFormatter), ("json", JsonFormatter), ("text", TextFormatter)]
)
def test_the_format_is_chosen_by_the_environment(
    value: str | None, kind: type[logging.Formatter]
) -> None:
    environ = {} if value is None else {"FRONTDOOR_LOG_FORMAT": value}

    assert type(create_formatter("sample", environ)) is kind


def test_an_unknown_format_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^FRONTDOOR_LOG_FORMAT: 'xml' is not one of"):
        create_formatter("sample", {"FRONTDOOR_LOG_FORMAT": "xml"})


# The access line, written the short way: the struct encoded as it is.

SPAN = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0x00F067AA0BA902B7,
    is_remote=False,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
)


def access_record(access: Access) -> logging.LogRecord:
    return logging.LogRecord("frontdoor.access", logging.INFO, "", 0, access, (), None)


def access_with(path: str = "/api/web/orders/o-1", **fields: Any) -> Access:
    values: dict[str, Any] = {
        "method": "GET",
        "route": "web",
        "status": 200,
        "duration_ms": 1.234,
        "start": 1_700_000_000.123456,
        "client": "203.0.113.9",
    }
    return Access(path=path, **{**values, **fields})


@pytest.mark.parametrize("client", ["203.0.113.9", None], ids=["edge", "service"])
def test_the_access_line_holds_its_fields_in_the_documented_order(client: str | None) -> None:
    access = access_with(client=client)
    record = access_record(access)
    token = set_request_id("order-page-1")
    try:
        with trace.use_span(NonRecordingSpan(SPAN)):
            line = JsonFormatter("edge").format(record)
    finally:
        reset_request_id(token)

    expected: dict[str, Any] = {
        "time": line[9:33],
        "level": "INFO",
        "service": "edge",
        "logger": "frontdoor.access",
        "message": "GET /api/web/orders/o-1 200",
        "request_id": "order-page-1",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "00f067aa0ba902b7",
        "event": "request",
        "method": "GET",
        "route": "web",
        "path": "/api/web/orders/o-1",
        "status": 200,
        "duration_ms": 1.234,
        "start": 1_700_000_000.123456,
    }
    if client is not None:
        expected["client"] = client
    assert RFC3339_MS.fullmatch(expected["time"])
    assert line == msgspec.json.encode(expected).decode()


def test_a_credential_in_the_path_is_redacted_on_the_access_line() -> None:
    line = json.loads(JsonFormatter("edge").format(access_record(access_with(f"/reset/{TOKEN}"))))

    assert line["path"] == "/reset/[redacted]"
    assert line["message"] == "GET /reset/[redacted] 200"
    assert (line["event"], line["client"]) == ("request", "203.0.113.9")


@pytest.mark.parametrize(
    ("path", "route"),
    [('/quote"and\\backslash\\x0a', "web"), ("/a", "route \udcff from a file"), ("/b", "\u2028")],
    ids=["quote-backslash", "lone-surrogate", "u2028"],
)
def test_a_hostile_access_line_stays_one_json_line(path: str, route: str) -> None:
    text = JsonFormatter("edge").format(access_record(access_with(path, route=route)))

    [line] = text.splitlines()
    assert (json.loads(line)["path"], json.loads(line)["route"]) == (path, route)


def test_no_access_record_is_made_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="frontdoor.access"):
        log_access(access_with())
    assert caplog.records == []

    with caplog.at_level(logging.INFO, logger="frontdoor.access"):
        log_access(access_with())
    [record] = caplog.records
    assert record.msg == access_with()


def test_a_request_id_set_is_current_until_reset() -> None:
    before = current_request_id()

    token = set_request_id("set-1")
    assert current_request_id() == "set-1"
    reset_request_id(token)

    assert current_request_id() == before == ""
