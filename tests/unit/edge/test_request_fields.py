"""`RequestFields`: the head's size and field count, and the fields the edge reads, in one pass."""

from __future__ import annotations

import pytest

from edge.request_fields import RequestFields
from tests.unit.edge.conftest import Connection, request_head


def test_the_size_counts_each_field_as_it_is_on_the_wire() -> None:
    fields = RequestFields([(b"host", b"edge.test"), (b"accept", b"*/*")])

    # "host: edge.test\r\n" is 17 bytes, "accept: */*\r\n" 13.
    assert fields.size == 30
    assert fields.count == 2


def test_an_empty_head_has_no_size_and_no_fields() -> None:
    fields = RequestFields([])

    assert (fields.size, fields.count) == (0, 0)
    assert fields.first(b"host") is None


def test_a_repeated_field_keeps_every_value_in_order() -> None:
    fields = RequestFields(
        [(b"x-forwarded-for", b"198.51.100.1"), (b"host", b"a"), (b"x-forwarded-for", b"10.0.0.2")]
    )

    assert fields.first(b"x-forwarded-for") == b"198.51.100.1"
    assert fields.every(b"x-forwarded-for") == [b"198.51.100.1", b"10.0.0.2"]


def test_an_absent_field_is_none_and_has_no_values() -> None:
    fields = RequestFields([(b"host", b"edge.test")])

    assert fields.first(b"authorization") is None
    assert fields.every(b"authorization") == []


def test_a_field_the_edge_does_not_read_is_counted_but_not_kept() -> None:
    fields = RequestFields([(b"accept", b"*/*")])

    assert fields.count == 1
    assert fields.size == len(b"accept: */*\r\n")
    assert fields.first(b"accept") is None


@pytest.mark.parametrize(
    "name",
    [
        b"authorization",
        b"content-length",
        b"transfer-encoding",
        b"origin",
        b"access-control-request-method",
        b"access-control-request-headers",
        b"x-forwarded-for",
        b"x-request-id",
    ],
)
def test_every_field_an_admission_rule_reads_is_found(name: bytes) -> None:
    fields = RequestFields([(name, b"value")])

    assert fields.first(name) == b"value"


async def test_names_sent_in_any_case_are_found_once_the_server_folds_them(
    connection: Connection,
) -> None:
    exchange = connection.exchange(
        request_head(headers=[("AUTHORIZATION", "Bearer abc"), ("Origin", "https://web.test")])
    )

    fields = RequestFields(exchange.headers)

    assert fields.first(b"authorization") == b"Bearer abc"
    assert fields.first(b"origin") == b"https://web.test"
