"""Access lines handed straight to the process's one handler: the same line, or logging's way."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from service_defaults.log_handler import BatchingStreamHandler
from service_defaults.logs import JsonFormatter
from service_defaults.request_context import (
    Access,
    log_access,
    reset_request_id,
    set_request_id,
    write_access_lines_to,
)

ACCESS = Access(
    method="GET",
    route="web",
    path="/api/web/x",
    status=200,
    duration_ms=1.5,
    start=1_790_000_000.25,
    client="203.0.113.9",
)


@pytest.fixture
def only_handler() -> Iterator[tuple[BatchingStreamHandler, io.StringIO]]:
    """This handler as the root's only one, as `serve` configures every process."""
    out = io.StringIO()
    handler = BatchingStreamHandler(out, interval_s=3600)
    handler.setFormatter(JsonFormatter("edge"))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    write_access_lines_to(handler)
    yield handler, out
    write_access_lines_to(None)
    root.handlers[:], level = saved
    root.setLevel(level)
    handler.close()


def lines(handler: BatchingStreamHandler, out: io.StringIO) -> list[dict[str, object]]:
    handler.flush()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_handed_straight_over_is_the_line_logging_would_write(
    only_handler: tuple[BatchingStreamHandler, io.StringIO],
) -> None:
    handler, out = only_handler
    token = set_request_id("rid-1")
    try:
        log_access(ACCESS)
        write_access_lines_to(None)  # the same request, the long way
        log_access(ACCESS)
    finally:
        reset_request_id(token)

    straight, logged = lines(handler, out)
    del straight["time"], logged["time"]
    assert straight == logged
    assert straight["request_id"] == "rid-1"
    assert straight["client"] == "203.0.113.9"
    assert straight["event"] == "request"


def test_a_second_handler_gets_access_lines_too(
    only_handler: tuple[BatchingStreamHandler, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    handler, out = only_handler

    with caplog.at_level(logging.INFO, logger="frontdoor.access"):
        log_access(ACCESS)

    assert [r.msg for r in caplog.records] == [ACCESS]
    assert len(lines(handler, out)) == 1


def test_no_line_when_the_access_log_is_turned_off(
    only_handler: tuple[BatchingStreamHandler, io.StringIO],
) -> None:
    handler, out = only_handler
    logging.getLogger("frontdoor.access").setLevel(logging.WARNING)
    try:
        log_access(ACCESS)
    finally:
        logging.getLogger("frontdoor.access").setLevel(logging.NOTSET)

    assert lines(handler, out) == []


def test_a_path_that_needs_redacting_takes_logging_s_way_and_is_redacted(
    only_handler: tuple[BatchingStreamHandler, io.StringIO],
) -> None:
    handler, out = only_handler
    secret = Access(
        method="GET",
        route="web",
        path="/x/eyJhbGciOi.eyJzdWIiOi.c2ln",
        status=200,
        duration_ms=1.0,
        start=1.0,
    )

    log_access(secret)

    [line] = lines(handler, out)
    assert "eyJhbGciOi" not in json.dumps(line)
