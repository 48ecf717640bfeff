"""Exercise 1: the answers in docs/workshop/answers/01.toml, against facts read from the copy.

Every expected answer is derived here, from the copy's route file and settings
and from its web BFF run in-process, so the quiz follows the code when it moves.
A failure gives a hint of where to look, never the answer.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from dataclasses import dataclass
from typing import Any

import pytest

from bff_web.settings import Settings
from service_defaults.deadlines import BUDGET_HEADER
from workshop.checks.route_files import load_copy_routes, route_for, upstream_name
from workshop.checks.verdicts import copy_file, fail, require
from workshop.checks.web_dashboard import DASHBOARD, ORDERS, USERS, mocked_services, web_bff

ANSWERS = "docs/workshop/answers/01.toml"
# Each mocked call's time when measuring whether the calls overlap.
CALL_S = 0.3


@dataclass(frozen=True)
class Question:
    key: str
    hint: str


QUESTIONS = [
    Question(
        "answered_by",
        f"find the route of infra/edge/routes.yaml that matches {DASHBOARD}: its `upstream` "
        "names the process (docs/edge.md, 'The route file'). In the timeline it is the row "
        "under the edge's own call.",
    ),
    Question(
        "edge_route",
        "the timeline's edge row carries a route badge; or match the path yourself in "
        "infra/edge/routes.yaml: an Exact match wins, then the longest prefix.",
    ),
    Question(
        "requests_per_minute",
        "the route's `rate_limit` names a policy under `rate_limits` in infra/edge/routes.yaml: "
        "`limit` per `window_s` seconds (docs/edge.md, 'Rate limits'). The timeline's limiter "
        "badge shows what is left of it.",
    ),
    Question(
        "deadline_header",
        "the edge writes it on the way in (edge/headers.py, edge/forwarding.py); "
        "service_defaults/deadlines.py reads it in every later hop.",
    ),
    Question(
        "answers_within_s",
        "two bounds apply: the route's `timeout_s`, which the edge hands down, and the web BFF's "
        "own budget, BFF_WEB_REQUEST_BUDGET_S (bff_kit/settings.py); the smaller wins "
        "(docs/bffs-and-services.md, 'Fan-out'). Try the header X-Fault: orders=slow:9000 "
        "(docs/walkthrough.md).",
    ),
    Question(
        "time_is_close_to",
        "do the bars of the BFF's calls overlap in the timeline? bff_kit/fanout.py says how a "
        "screen's calls are started.",
    ),
    Question(
        "degraded_when_orders_is_down",
        "send the dashboard with the header X-Fault: orders=down (docs/walkthrough.md, "
        "'Watch it degrade'), or read which calls bff_web/routes.py makes optional.",
    ),
    Question(
        "calls",
        "count the BFF's calls under its row in the timeline, or read WebController.dashboard in "
        "bff_web/routes.py and the clients it calls (bff_web/clients.py).",
    ),
]


async def _observed_on_the_dashboard() -> dict[str, Any]:
    facts: dict[str, Any] = {}
    with mocked_services() as services:
        async with web_bff(services) as bff:
            await bff.dashboard()
            facts["calls"] = {
                "users": services.calls_to(USERS),
                "orders": services.calls_to(ORDERS),
            }
    with mocked_services() as services:
        services.each_call_takes(CALL_S)
        async with web_bff(services) as bff:
            elapsed_s = (await bff.dashboard()).elapsed_s
        # Three calls one after another would take three times as long as one.
        facts["time_is_close_to"] = "slowest" if elapsed_s < 2 * CALL_S else "sum"
    with mocked_services() as services:
        services.orders_refuse()
        async with web_bff(services) as bff:
            facts["degraded_when_orders_is_down"] = (await bff.dashboard()).body["degraded"]
    return facts


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    route = route_for(load_copy_routes(), DASHBOARD)
    policy = route.rate_limit
    return {
        "answered_by": upstream_name(route),
        "edge_route": route.name,
        "requests_per_minute": round(policy.limit * 60 / policy.window_s) if policy else None,
        "deadline_header": BUDGET_HEADER,
        "answers_within_s": min(route.timeout_s, Settings().request_budget_s),
        **asyncio.run(_observed_on_the_dashboard()),
    }


@pytest.fixture(scope="module")
def answers() -> dict[str, Any]:
    path = copy_file(ANSWERS)
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        fail(f"{ANSWERS} is not valid TOML: {exc}. Strings go in quotes, numbers bare.")


def _word(value: object) -> str:
    """Case, spaces and punctuation aside: "BFF-web" is bff_web."""
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def _same(answer: object, fact: object) -> bool:
    if isinstance(fact, dict):
        return isinstance(answer, dict) and {_word(k): v for k, v in answer.items()} == fact
    if isinstance(fact, list):
        return isinstance(answer, list) and sorted(map(_word, answer)) == sorted(map(_word, fact))
    if isinstance(fact, int | float) and not isinstance(fact, bool):
        return isinstance(answer, int | float) and abs(answer - fact) < 0.01
    return _word(answer) == _word(fact)


def _unanswered(answer: object) -> bool:
    if isinstance(answer, dict):
        return not any(answer.values())
    return answer in (None, "", 0, [])


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.key for q in QUESTIONS])
def test_the_answer_matches_the_code(
    question: Question, facts: dict[str, Any], answers: dict[str, Any]
) -> None:
    answer = answers.get(question.key)
    require(
        not _unanswered(answer),
        f"{question.key} in {ANSWERS} has no answer yet. Where to look: {question.hint}",
    )
    require(
        _same(answer, facts[question.key]),
        f"{question.key} = {answer!r} is not what the code of your copy says. "
        f"Where to look: {question.hint}",
    )
