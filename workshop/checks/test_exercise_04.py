"""Exercise 4: with docs/workshop/settings/04-bff_web.env, a hanging orders service costs the
dashboard at most 2 s, and after two failing dashboards the web BFF leaves orders alone for 10 s.

The copy's web BFF runs in-process with the file's settings, its services mocked
at the wire, so its own deadline, retries and circuit breaker decide.
"""

from __future__ import annotations

import time

import pytest

import bff_kit.breaker
from bff_web.settings import PREFIX, Settings, load_settings
from service_defaults.settings import ConfigError
from workshop.checks.settings_files import not_settings_of, read_settings_file
from workshop.checks.verdicts import copy_file, fail, require
from workshop.checks.web_dashboard import ORDERS, mocked_services, web_bff

SETTINGS_FILE = "docs/workshop/settings/04-bff_web.env"
BUDGET_S = 2.0
# What a loaded machine may add to the budget before the answer is out.
SLACK_S = 0.75
# An orders service this slow is slow, not failing: its sections must still arrive.
SLOW_BUT_IN_TIME_S = 1.2
RESET_AFTER_S = 10.0
DEGRADED = ["recent_orders", "stats"]
DOCS = "docs/bffs-and-services.md, 'Fan-out' and 'Retries and circuits'"


def file_settings() -> Settings:
    values = read_settings_file(copy_file(SETTINGS_FILE))
    ignored = not_settings_of(values, Settings, PREFIX)
    require(
        not ignored,
        f"{', '.join(ignored)} in {SETTINGS_FILE}: the web BFF would ignore it. Its settings are "
        f"the fields of BffSettings (bff_kit/settings.py) with the prefix {PREFIX}.",
    )
    try:
        return load_settings(values)
    except ConfigError as exc:
        fail(f"The web BFF would refuse to start with {SETTINGS_FILE}: {exc}")


class ShiftedClock:
    """The breaker's clock, moved forward at will: ten seconds pass without waiting for them."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset_s


def test_the_settings_file_holds_only_settings_of_the_web_bff() -> None:
    file_settings()


async def test_a_hanging_orders_service_costs_the_dashboard_at_most_2_seconds() -> None:
    with mocked_services() as services:
        services.orders_hang()
        async with web_bff(services, file_settings()) as bff:
            answer = await bff.dashboard()
    require(
        answer.elapsed_s <= BUDGET_S + SLACK_S,
        f"With orders hanging the dashboard took {answer.elapsed_s:.1f} s; it must answer within "
        f"{BUDGET_S:g} s. Which setting bounds a screen's time? (bff_kit/settings.py; {DOCS})",
    )
    require(
        answer.status == 200 and sorted(answer.body["degraded"]) == DEGRADED,
        f"With orders hanging the dashboard should be a 200 with {DEGRADED} degraded; it was a "
        f"{answer.status}: {answer.body}",
    )


async def test_an_orders_service_slower_than_a_second_is_still_on_the_dashboard() -> None:
    with mocked_services() as services:
        services.each_call_takes(SLOW_BUT_IN_TIME_S)
        async with web_bff(services, file_settings()) as bff:
            answer = await bff.dashboard()
    require(
        answer.status == 200 and answer.body["degraded"] == [],
        f"With every call taking {SLOW_BUT_IN_TIME_S:g} s the dashboard degraded "
        f"{answer.body.get('degraded')}: the budget is {BUDGET_S:g} s, not less, or a merely slow "
        "service would vanish from the page.",
    )


async def test_two_dashboards_with_orders_refusing_open_its_circuit() -> None:
    with mocked_services() as services:
        services.orders_refuse()
        async with web_bff(services, file_settings()) as bff:
            await bff.dashboard()
            require(
                await bff.circuit("orders") == "closed",
                "After one dashboard with orders refusing (two failed calls) the circuit for "
                "orders is open already: the task is to stop calling after two dashboards.",
            )
            await bff.dashboard()
            require(
                await bff.circuit("orders") == "open",
                "After two dashboards with orders refusing (four failed calls in a row) the "
                "circuit for orders is still closed. How many failures open it? "
                f"(bff_kit/breaker.py; {DOCS})",
            )
            called = services.calls_to(ORDERS)
            third = await bff.dashboard()
            require(
                services.calls_to(ORDERS) == called and sorted(third.body["degraded"]) == DEGRADED,
                "With its circuit open the web BFF still called orders on the third dashboard.",
            )


async def test_calls_cut_off_by_the_budget_count_against_the_circuit_too() -> None:
    settings = file_settings()
    require(
        settings.request_budget_s <= BUDGET_S,
        "This check waits for a dashboard against a hanging orders service: bound the "
        "dashboard's time first (the check on a hanging orders service above).",
    )
    with mocked_services() as services:
        async with web_bff(services, settings) as bff:
            # One dashboard's two failures leave the circuit closed (the check above); two
            # timeouts more must open it as two more refusals would.
            services.orders_refuse()
            await bff.dashboard()
            services.orders_hang()
            await bff.dashboard()
            require(
                await bff.circuit("orders") == "open",
                "After a dashboard with orders refusing and one with orders hanging the circuit "
                "for orders is still closed: a call cut off by the budget counts as a failure "
                "when it had a fair share of it (FAIR_SHARE in bff_kit/breaker.py).",
            )


async def test_the_circuit_lets_one_call_through_after_10_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = ShiftedClock()
    monkeypatch.setattr(bff_kit.breaker, "time", clock)
    with mocked_services() as services:
        services.orders_refuse()
        async with web_bff(services, file_settings()) as bff:
            for _ in range(2):
                await bff.dashboard()
            require(
                await bff.circuit("orders") == "open",
                "The circuit for orders did not open after two failing dashboards (see the check "
                "on a refusing orders service above).",
            )
            services.orders_answer()
            called = services.calls_to(ORDERS)
            clock.offset_s = RESET_AFTER_S - 0.5
            await bff.dashboard()
            require(
                services.calls_to(ORDERS) == called,
                f"{clock.offset_s:g} s after the circuit opened the web BFF called orders "
                f"again: it should leave orders alone for {RESET_AFTER_S:g} s. Which setting "
                "says how long? (bff_kit/settings.py)",
            )
            clock.offset_s = RESET_AFTER_S + 0.5
            await bff.dashboard()
            require(
                services.calls_to(ORDERS) > called,
                f"{clock.offset_s:g} s after the circuit opened the web BFF still had not tried "
                f"orders: after {RESET_AFTER_S:g} s it should let one call through as a probe.",
            )
