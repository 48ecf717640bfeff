"""The transfer-coding rule: any coding but chunked is a 501, never a body passed on."""

from __future__ import annotations

import pytest

from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.rules.transfer_coding import check_transfer_coding
from tests.unit.edge.conftest import Connection, request_head


def fields_with(coding: bytes) -> RequestFields:
    return RequestFields([(b"transfer-encoding", coding)])


def test_no_transfer_coding_passes() -> None:
    check_transfer_coding(RequestFields([(b"content-length", b"3")]))


@pytest.mark.parametrize("coding", [b"chunked", b"Chunked", b"CHUNKED", b" chunked "])
def test_chunked_in_any_case_passes(coding: bytes) -> None:
    check_transfer_coding(fields_with(coding))


@pytest.mark.parametrize("coding", [b"gzip", b"gzip, chunked", b"identity", b"chunked, gzip"])
def test_any_other_coding_is_501(coding: bytes) -> None:
    with pytest.raises(Refused) as refused:
        check_transfer_coding(fields_with(coding))

    assert refused.value.status == 501
    assert "chunked" in refused.value.detail


async def test_a_coding_before_chunked_gets_past_the_server_and_is_refused_here(
    connection: Connection,
) -> None:
    # The server decodes the chunks but not the gzip under them: only this rule
    # keeps a compressed body from going upstream as if it were plain.
    exchange = connection.exchange(
        request_head("POST", "/api", [("Transfer-Encoding", "gzip, chunked")])
    )

    with pytest.raises(Refused) as refused:
        check_transfer_coding(RequestFields(exchange.headers))

    assert refused.value.status == 501
