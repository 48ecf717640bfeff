"""The head-limits rule: too many header fields, or too many bytes of them, is a 431."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.rules.head_limits import check_head

MAX_FIELDS = 100
MAX_BYTES = 1024


def check(headers: list[tuple[bytes, bytes]]) -> None:
    check_head(RequestFields(headers), max_fields=MAX_FIELDS, max_bytes=MAX_BYTES)


def test_101_fields_are_431_however_small() -> None:
    with pytest.raises(Refused) as refused:
        check([(b"a", b"")] * 101)

    assert refused.value.status == 431
    assert "too many header fields" in refused.value.detail


def test_exactly_the_maximum_of_fields_passes() -> None:
    check([(b"a", b"")] * MAX_FIELDS)


def test_a_head_over_the_byte_limit_is_431_however_few_its_fields() -> None:
    with pytest.raises(Refused) as refused:
        check([(b"cookie", b"x" * MAX_BYTES)])

    assert refused.value.status == 431
    assert "too large" in refused.value.detail


def test_a_head_of_exactly_the_byte_limit_passes() -> None:
    # "x-big: " and CRLF are 9 bytes of the field's size.
    check([(b"x-big", b"x" * (MAX_BYTES - 9))])


def test_a_head_one_byte_over_the_limit_is_431() -> None:
    with pytest.raises(Refused) as refused:
        check([(b"x-big", b"x" * (MAX_BYTES - 8))])

    assert refused.value.status == 431


def test_many_fields_of_many_bytes_together_count_against_the_byte_limit() -> None:
    # Each field alone is small; their sum is past the limit.
    with pytest.raises(Refused) as refused:
        check([(b"x-part", b"y" * 100)] * 10)

    assert refused.value.status == 431
