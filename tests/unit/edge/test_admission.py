"""Admission: the rules in their documented order, CORS on refusals past the route, traced notes.

A request that breaks two rules must get the earlier rule's answer: each test
below breaks a rule and a later one, and expects the earlier status.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edge.admission import Admission, Admitted, Preflight
from edge.auth import Authenticator
from edge.edge_config import EdgeConfig
from edge.exchange import Exchange
from edge.metrics import EdgeMetrics
from edge.rate_limits import MemoryLimiter
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.rules.rate_limit import Notes, RateLimitRule
from tests.token_issuer import TestIssuer
from tests.unit.edge.conftest import Connection, RouteFiles, request_head

WEB = "https://web.test"
FROM_WEB = ("Origin", WEB)
ALLOW_WEB = (b"access-control-allow-origin", WEB.encode())
CLIENT = "203.0.113.9"
MAX_FIELDS = 20
Field = tuple[str, str]


class Gate:
    """The edge's admission over a route table written for these tests, one connection per request.

    /api   token, GET and POST, one request per minute per client address, bodies up to 10 bytes
    /me    token, one request per minute per subject
    /open  no token
    All three share the CORS policy "web".
    """

    def __init__(self, route_files: RouteFiles, authenticator: Authenticator, issuer: TestIssuer):
        table = route_files.table(
            [
                {
                    "name": "api",
                    "path": {"value": "/api"},
                    "upstream": "api",
                    "methods": ["GET", "POST"],
                    "rate_limit": "per-address",
                    "cors": "web",
                    "max_body_bytes": 10,
                },
                {
                    "name": "me",
                    "path": {"value": "/me"},
                    "upstream": "api",
                    "rate_limit": "per-user",
                    "cors": "web",
                },
                {
                    "name": "open",
                    "path": {"value": "/open"},
                    "upstream": "other",
                    "auth": "none",
                    "cors": "web",
                },
            ],
            {
                "rate_limits": {
                    "per-address": {"limit": 1, "window_s": 60, "key": "client_address"},
                    "per-user": {"limit": 1, "window_s": 60},
                },
                "cors": {"web": {"allow_origins": [WEB], "allow_headers": ["authorization"]}},
            },
        )
        self.config = EdgeConfig(table, authenticator)
        self.metrics = EdgeMetrics()
        self.admission = Admission(
            RateLimitRule(MemoryLimiter(), self.metrics),
            max_header_fields=MAX_FIELDS,
            max_header_bytes=2048,
        )
        self._issuer = issuer
        self.last: Exchange | None = None

    def token(self, subject: str = "alice") -> Field:
        return ("Authorization", f"Bearer {self._issuer.token(subject)}")

    async def admit(
        self,
        method: str = "GET",
        target: str = "/api",
        headers: Sequence[Field] = (),
        notes: Notes = None,
        client: str = CLIENT,
    ) -> Admitted | Preflight:
        self.last = exchange = Connection().exchange(request_head(method, target, headers))
        return await self.admission.admit(
            exchange, RequestFields(exchange.headers), self.config, client, notes
        )

    async def refused(
        self,
        method: str = "GET",
        target: str = "/api",
        headers: Sequence[Field] = (),
        notes: Notes = None,
    ) -> Refused:
        with pytest.raises(Refused) as refused:
            await self.admit(method, target, headers, notes)
        return refused.value


@pytest.fixture
def gate(route_files: RouteFiles, authenticator: Authenticator, issuer: TestIssuer) -> Gate:
    return Gate(route_files, authenticator, issuer)


async def test_a_request_that_breaks_no_rule_is_admitted_with_its_answer_headers(
    gate: Gate,
) -> None:
    admitted = await gate.admit(headers=[gate.token(), FROM_WEB])

    assert isinstance(admitted, Admitted)
    assert admitted.route.name == "api"
    names = [name for name, _ in admitted.response_headers]
    assert names[:2] == [b"ratelimit-policy", b"ratelimit"]
    assert ALLOW_WEB in admitted.response_headers


# The order, one pair of broken rules at a time.


async def test_too_many_fields_is_431_before_the_transfer_coding(gate: Gate) -> None:
    headers = [("Transfer-Encoding", "gzip, chunked")] + [("x-pad", "1")] * MAX_FIELDS

    assert (await gate.refused("POST", headers=headers)).status == 431


async def test_an_unknown_coding_is_501_before_the_path(gate: Gate) -> None:
    headers = [("Transfer-Encoding", "gzip, chunked")]

    assert (await gate.refused("POST", "/api/%2e%2e/admin", headers)).status == 501


async def test_a_bad_path_is_400_before_the_route(gate: Gate) -> None:
    assert (await gate.refused(target="/nowhere/%2e%2e/admin")).status == 400


async def test_an_unmatched_path_is_404_before_the_method(gate: Gate) -> None:
    assert (await gate.refused("DELETE", "/nowhere")).status == 404


async def test_a_wrong_method_is_405_before_the_token(gate: Gate) -> None:
    assert (await gate.refused("DELETE")).status == 405


async def test_a_missing_token_is_401_before_the_rate_limit(gate: Gate) -> None:
    await gate.admit(headers=[gate.token()])  # the address's one request this minute

    assert (await gate.refused()).status == 401


async def test_the_rate_limit_is_429_before_the_body_size(gate: Gate) -> None:
    await gate.admit(headers=[gate.token()])
    too_large = [gate.token(), ("Content-Length", "11")]

    assert (await gate.refused("POST", headers=too_large)).status == 429


async def test_a_declared_body_over_the_limit_is_413_last(gate: Gate) -> None:
    refused = await gate.refused("POST", headers=[gate.token(), ("Content-Length", "11")])

    assert refused.status == 413


async def test_a_refused_token_spends_no_quota(gate: Gate) -> None:
    for _ in range(3):
        await gate.refused(headers=[("Authorization", "Bearer forged")])

    assert isinstance(await gate.admit(headers=[gate.token()]), Admitted)


async def test_a_per_address_limit_is_keyed_by_the_resolved_client_address(gate: Gate) -> None:
    await gate.admit(headers=[gate.token("alice")])

    # Alice elsewhere has that address's quota; anyone at the first address has none.
    elsewhere = await gate.admit(headers=[gate.token("alice")], client="198.51.100.7")
    refused = await gate.refused(headers=[gate.token("bob")])

    assert isinstance(elsewhere, Admitted)
    assert refused.status == 429


async def test_a_per_subject_limit_is_keyed_by_the_tokens_subject(gate: Gate) -> None:
    await gate.admit(target="/me", headers=[gate.token("alice")])

    # Same address: Bob has his own quota, Alice has spent hers.
    assert isinstance(await gate.admit(target="/me", headers=[gate.token("bob")]), Admitted)
    refused = await gate.refused(target="/me", headers=[gate.token("alice")])
    assert refused.status == 429


# CORS on refusals.


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [("GET", "/nowhere", 404), ("GET", "/api/%2e%2e", 400)],
)
async def test_refusals_before_the_route_carry_no_cors_headers(
    gate: Gate, method: str, target: str, status: int
) -> None:
    refused = await gate.refused(method, target, [FROM_WEB])

    assert refused.status == status
    assert refused.headers == []


async def test_a_head_refusal_carries_no_cors_headers(gate: Gate) -> None:
    refused = await gate.refused(headers=[FROM_WEB] + [("x-pad", "1")] * MAX_FIELDS)

    assert refused.status == 431
    assert refused.headers == []


async def test_a_405_keeps_its_allow_header_beside_the_cors_headers(gate: Gate) -> None:
    refused = await gate.refused("DELETE", headers=[FROM_WEB])

    assert refused.status == 405
    assert (b"allow", b"GET, HEAD, POST") in refused.headers
    assert ALLOW_WEB in refused.headers


async def test_a_401_carries_its_challenge_and_the_cors_headers(gate: Gate) -> None:
    refused = await gate.refused(headers=[FROM_WEB])

    assert refused.status == 401
    assert (b"www-authenticate", b"Bearer") in refused.headers
    assert ALLOW_WEB in refused.headers


async def test_a_400_for_two_tokens_carries_the_cors_headers(gate: Gate) -> None:
    refused = await gate.refused(headers=[gate.token(), gate.token(), FROM_WEB])

    assert refused.status == 400
    assert ALLOW_WEB in refused.headers


async def test_a_429_carries_its_ratelimit_headers_and_the_cors_headers(gate: Gate) -> None:
    await gate.admit(headers=[gate.token()])

    refused = await gate.refused(headers=[gate.token(), FROM_WEB])

    assert refused.status == 429
    names = {name for name, _ in refused.headers}
    assert {b"ratelimit", b"retry-after", b"access-control-allow-origin"} <= names


async def test_a_413_carries_the_cors_headers(gate: Gate) -> None:
    refused = await gate.refused("POST", headers=[gate.token(), ("Content-Length", "11"), FROM_WEB])

    assert refused.status == 413
    assert ALLOW_WEB in refused.headers


async def test_a_refusal_to_another_origin_only_says_it_varies(gate: Gate) -> None:
    refused = await gate.refused(headers=[("Origin", "https://evil.test")])

    assert refused.status == 401
    assert (b"vary", b"Origin") in refused.headers
    assert all(not name.startswith(b"access-control-") for name, _ in refused.headers)


# Preflights.


def preflight_of(method: str, origin: str = WEB) -> list[Field]:
    return [
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", "Authorization"),
    ]


async def test_a_preflight_is_answered_before_the_method_and_the_token(gate: Gate) -> None:
    # OPTIONS is not one of the route's methods and no token is sent: neither matters.
    answer = await gate.admit("OPTIONS", headers=preflight_of("POST"))

    assert isinstance(answer, Preflight)
    assert ALLOW_WEB in answer.headers
    assert (b"access-control-allow-headers", b"authorization") in answer.headers


async def test_a_preflight_spends_no_quota(gate: Gate) -> None:
    for _ in range(3):
        await gate.admit("OPTIONS", headers=preflight_of("GET"))

    assert isinstance(await gate.admit(headers=[gate.token()]), Admitted)


async def test_a_preflight_the_policy_refuses_is_403_not_405_or_401(gate: Gate) -> None:
    refused = await gate.refused("OPTIONS", headers=preflight_of("POST", "https://evil.test"))

    assert refused.status == 403


async def test_a_preflight_for_an_unmatched_path_is_404(gate: Gate) -> None:
    refused = await gate.refused("OPTIONS", "/nowhere", preflight_of("POST"))

    assert refused.status == 404


async def test_options_without_a_requested_method_goes_through_the_rules(gate: Gate) -> None:
    refused = await gate.refused("OPTIONS", headers=[FROM_WEB])

    assert refused.status == 405


# What the exchange and the notes learn.


async def test_the_exchange_learns_the_decoded_path_and_the_route_even_when_refused(
    gate: Gate,
) -> None:
    await gate.refused("DELETE", "/api/caf%C3%A9")

    assert gate.last is not None
    assert gate.last.path == "/api/café"
    assert gate.last.route == "api"


async def test_an_unmatched_request_has_its_path_but_no_route(gate: Gate) -> None:
    await gate.refused(target="/nowhere")

    assert gate.last is not None
    assert (gate.last.path, gate.last.route) == ("/nowhere", "")


async def test_notes_get_an_accepted_token_and_the_rate_limit_decision(gate: Gate) -> None:
    notes: dict[str, str | int] = {}

    await gate.admit(headers=[gate.token()], notes=notes)

    assert notes == {
        "frontdoor.auth.outcome": "accepted",
        "frontdoor.rate_limit.policy": "per-address",
        "frontdoor.rate_limit.decision": "allowed",
        "frontdoor.rate_limit.remaining": 0,
    }


async def test_notes_get_a_rejected_token_and_no_rate_limit_decision(gate: Gate) -> None:
    notes: dict[str, str | int] = {}

    await gate.refused(headers=[("Authorization", "Bearer forged")], notes=notes)

    assert notes == {"frontdoor.auth.outcome": "rejected"}


async def test_notes_say_a_route_needs_no_token(gate: Gate) -> None:
    notes: dict[str, str | int] = {}

    await gate.admit(target="/open", notes=notes)

    assert notes == {"frontdoor.auth.outcome": "not_required"}


async def test_notes_get_a_refusal_by_the_limit(gate: Gate) -> None:
    await gate.admit(headers=[gate.token()])
    notes: dict[str, str | int] = {}

    await gate.refused(headers=[gate.token()], notes=notes)

    assert notes["frontdoor.auth.outcome"] == "accepted"
    assert notes["frontdoor.rate_limit.decision"] == "limited"


async def test_a_route_without_a_limit_makes_no_decision(gate: Gate) -> None:
    admitted = await gate.admit(target="/open", headers=[FROM_WEB])

    assert isinstance(admitted, Admitted)
    assert admitted.response_headers == [ALLOW_WEB, (b"vary", b"Origin")]
    assert (
        gate.metrics.registry.get_sample_value(
            "frontdoor_edge_rate_limit_decisions_total",
            {"policy": "per-address", "decision": "allowed"},
        )
        is None
    )
