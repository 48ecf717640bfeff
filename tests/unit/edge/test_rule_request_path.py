"""The path rule: a path that could mean something else once decoded is a 400."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.rules.request_path import checked_path
from tests.unit.edge.conftest import Connection, request_head


def test_a_plain_path_is_returned_as_is() -> None:
    assert checked_path(b"/api/orders/42") == "/api/orders/42"


def test_a_percent_encoded_path_is_returned_decoded() -> None:
    assert checked_path(b"/api/caf%C3%A9/a%20b") == "/api/café/a b"


@pytest.mark.parametrize(
    "raw",
    [b"/api/v1.2/report..txt", b"/api/...", b"/api//orders", b"/api/%41"],
    ids=["dots-inside-segments", "three-dots", "empty-segment", "encoded-letter"],
)
def test_a_path_that_decodes_to_one_meaning_passes(raw: bytes) -> None:
    assert checked_path(raw).startswith("/api/")


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/%2e%2e/admin",
        b"/api/%2E%2E/admin",
        b"/api/.%2e/admin",
        b"/api/a%2fb",
        b"/api/a%2Fb",
        b"/api/a%5cb",
        b"/api/a%00b",
        b"/api/a\\b",
        b"/api/a\x7fb",
        b"/api/%0d%0a",
        b"/api/%252e%252e/admin",
    ],
    ids=[
        "encoded-dots",
        "encoded-dots-upper",
        "half-encoded-dots",
        "encoded-slash",
        "encoded-slash-upper",
        "encoded-backslash",
        "encoded-nul",
        "raw-backslash",
        "raw-delete",
        "encoded-crlf",
        "double-encoded-dots",
    ],
)
def test_a_path_that_could_climb_or_split_once_decoded_is_400(raw: bytes) -> None:
    with pytest.raises(Refused) as refused:
        checked_path(raw)

    assert refused.value.status == 400
    assert refused.value.detail.startswith("The request path is not acceptable: ")


@pytest.mark.parametrize("raw", [b"/api/../admin", b"/api/./orders", b"/api/.."])
def test_a_dot_segment_is_400(raw: bytes) -> None:
    with pytest.raises(Refused) as refused:
        checked_path(raw)

    assert refused.value.status == 400
    assert "dot segments" in refused.value.detail


def test_a_path_that_is_not_utf8_once_decoded_is_400() -> None:
    with pytest.raises(Refused) as refused:
        checked_path(b"/api/%ff")

    assert refused.value.status == 400
    assert "UTF-8" in refused.value.detail


@pytest.mark.parametrize("raw", [b"*", b"api/orders", b""])
def test_a_path_that_does_not_start_with_a_slash_is_400(raw: bytes) -> None:
    with pytest.raises(Refused) as refused:
        checked_path(raw)

    assert refused.value.status == 400


async def test_the_rule_reads_the_path_as_sent_not_as_the_server_decoded_it(
    connection: Connection,
) -> None:
    exchange = connection.exchange(request_head(target="/api/%2e%2e/admin"))

    with pytest.raises(Refused) as refused:
        checked_path(exchange.raw_path)

    assert refused.value.status == 400
    assert exchange.raw_path == b"/api/%2e%2e/admin", "as sent, never decoded before the rule"
