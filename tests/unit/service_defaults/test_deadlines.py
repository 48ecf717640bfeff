"""`Deadline`: the edge's time budget from `x-request-budget-ms`, capped by the app's own."""

from __future__ import annotations

import pytest

from service_defaults.deadlines import BUDGET_HEADER, Deadline


def test_edge_budget_is_used_when_smaller_than_the_default() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "250"}, default_s=5.0)

    assert 0.2 < deadline.remaining() <= 0.25


def test_edge_budget_never_exceeds_the_default() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "60000"}, default_s=2.0)

    assert 1.9 < deadline.remaining() <= 2.0


# "²" is what a raw 0xB2 byte decodes to (headers are latin-1): a digit to
# str.isdigit, not to int().
@pytest.mark.parametrize("value", ["", "soon", "-5", "1.5", " 100", "²"], ids=repr)
def test_unusable_budget_falls_back_to_the_default(value: str) -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: value}, default_s=3.0)

    assert 2.9 < deadline.remaining() <= 3.0


def test_missing_budget_falls_back_to_the_default() -> None:
    assert 2.9 < Deadline.from_headers({}, default_s=3.0).remaining() <= 3.0


def test_zero_budget_is_already_expired() -> None:
    deadline = Deadline.from_headers({BUDGET_HEADER: "0"}, default_s=3.0)

    assert deadline.expired
    assert deadline.remaining() == 0.0


def test_remaining_time_never_goes_negative() -> None:
    assert Deadline(-1.0).remaining() == 0.0
