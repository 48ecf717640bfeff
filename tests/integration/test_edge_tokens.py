"""Bearer tokens at the edge: what is refused, how, and how signing keys are fetched and rotated.

Two edges share one echo backend (which counts JWKS fetches). Each edge fetches
the JWKS once when /readyz is first asked, and then refetches on an unknown key
id at most once per REFETCH_FLOOR_S: a rotation is seen only after that floor,
so the rotation and flood tests come last, when most of the floor has passed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer

pytestmark = pytest.mark.integration

REFETCH_FLOOR_S = 10.0  # JwksKeySource's default refetch_floor_s
INVALID_TOKEN = 'Bearer error="invalid_token"'


@dataclass(frozen=True)
class StartedEdges:
    edge: EdgeUnderTest
    # Every edge has fetched the JWKS (for /readyz) before this monotonic time.
    ready_at: float


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartedEdges]:
    with edge_under_test(tmp_path_factory.mktemp("edge-tokens"), edges=2) as running:
        yield StartedEdges(running, time.monotonic())


@pytest.fixture(scope="module")
def edge(started: StartedEdges) -> EdgeUnderTest:
    return started.edge


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(subject: str) -> dict[str, object]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 300}


def encode_part(part: dict[str, object]) -> str:
    return b64url(json.dumps(part).encode())


def unsigned_token(kid: str) -> str:
    header: dict[str, object] = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{encode_part(header)}.{encode_part(claims('alg-none'))}."


def hmac_with_public_key_token(issuer: TestIssuer) -> str:
    """HS256 keyed with the issuer's public key: the classic algorithm-confusion forgery."""
    secret = issuer.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header: dict[str, object] = {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}
    signing_input = f"{encode_part(header)}.{encode_part(claims('hs256'))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def jwks_fetches(edge: EdgeUnderTest) -> int:
    response = httpx.get(f"{edge.backend_url}/_jwks_fetches", trust_env=False)
    fetches: int = response.json()["fetches"]
    return fetches


def assert_refused(response: httpx.Response, challenge: str = INVALID_TOKEN) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == 401
    return problem


def test_valid_token_is_accepted(edge: EdgeUnderTest, client: httpx.Client) -> None:
    token = edge.token("valid-user")

    response = client.get("/api/x", headers=bearer(token))

    assert response.status_code == 200
    # The services behind check the token again: the edge passes it on unchanged.
    assert ["authorization", f"Bearer {token}"] in response.json()["headers"]


def test_missing_token_is_401_with_a_bare_bearer_challenge(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    assert_refused(client.get("/api/x"), challenge="Bearer")

    assert edge.upstream_calls() == before


def test_non_bearer_authorization_is_treated_as_missing(client: httpx.Client) -> None:
    assert_refused(client.get("/api/x", headers={"Authorization": "Basic dXNlcjpwYXNz"}), "Bearer")


UNFIT_KINDS = (
    "garbage",
    "alg none",
    "HS256 keyed with the public key",
    "expired",
    "not yet valid",
    "wrong issuer",
    "wrong audience",
    "no subject",
    "no expiry",
    "unknown kid",
    "tampered claims",
)


def forged_or_unfit_tokens(edge: EdgeUnderTest) -> dict[str, str]:
    now = int(time.time())
    stranger = TestIssuer()  # its key is never published
    return {
        "garbage": "not-a-jwt",
        "alg none": unsigned_token(edge.issuer.kid),
        "HS256 keyed with the public key": hmac_with_public_key_token(edge.issuer),
        "expired": edge.token("expired", iat=now - 600, exp=now - 120),
        "not yet valid": edge.token("early", nbf=now + 120),
        "wrong issuer": edge.token("wrong-iss", iss="https://evil.example/auth"),
        "wrong audience": edge.token("wrong-aud", aud="someone-else"),
        "no subject": edge.token("x", sub=None),
        "no expiry": edge.token("no-exp", exp=None),
        "unknown kid": stranger.token("stranger"),
        "tampered claims": tampered(edge.token("honest")),
    }


def tampered(token: str) -> str:
    header, _, rest = token.partition(".")
    _, _, signature = rest.partition(".")
    return f"{header}.{encode_part(claims('admin'))}.{signature}"


@pytest.mark.parametrize("kind", UNFIT_KINDS)
def test_unacceptable_token_is_401_invalid_token_without_upstream_call(
    edge: EdgeUnderTest, client: httpx.Client, kind: str
) -> None:
    token = forged_or_unfit_tokens(edge)[kind]
    before = edge.upstream_calls()

    assert_refused(client.get("/api/x", headers=bearer(token)))

    assert edge.upstream_calls() == before


def test_every_refusal_reads_the_same_whatever_check_failed(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    details = {
        kind: assert_refused(client.get("/api/x", headers=bearer(token)))["detail"]
        for kind, token in forged_or_unfit_tokens(edge).items()
    }
    details["missing"] = assert_refused(client.get("/api/x"), challenge="Bearer")["detail"]

    assert len(set(details.values())) == 1, details
    telling = ("expire", "audience", "issuer", "signature", "kid", "algorithm", "before", "claim")
    assert not any(word in details["garbage"].lower() for word in telling), details["garbage"]


def test_token_within_the_clock_leeway_is_accepted(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    # 30 s of leeway: a token that expired 5 s ago, or starts in 5 s, still passes.
    now = int(time.time())
    late = edge.token("leeway-late", exp=now - 5)
    early = edge.token("leeway-early", nbf=now + 5)

    assert client.get("/api/x", headers=bearer(late)).status_code == 200
    assert client.get("/api/x", headers=bearer(early)).status_code == 200


def test_audience_is_checked_per_route(edge: EdgeUnderTest, client: httpx.Client) -> None:
    partner_only = edge.token("partner-app", aud="partner")

    assert_refused(client.get("/api/x", headers=bearer(partner_only)))
    assert client.get("/partner/x", headers=bearer(partner_only)).status_code == 200


def test_one_token_for_several_audiences_opens_each_of_their_routes(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    both = edge.token("both-apps", aud=[AUDIENCE, "partner"])

    assert client.get("/api/x", headers=bearer(both)).status_code == 200
    assert client.get("/partner/x", headers=bearer(both)).status_code == 200


def test_rotated_key_is_used_after_one_refetch_and_the_old_key_still_works(
    started: StartedEdges, client: httpx.Client
) -> None:
    edge = started.edge
    successor = TestIssuer()
    edge.publish(edge.issuer, successor)
    fetches = jwks_fetches(edge)
    new_token = successor.token(f"rotated-{uuid.uuid4().hex}")
    # Until the floor since the last fetch has passed, the new kid is unknown;
    # every poll below is an unknown-kid request that must not cost a fetch.
    deadline = time.monotonic() + REFETCH_FLOOR_S + 5
    polls = 0
    while (status := client.get("/api/x", headers=bearer(new_token)).status_code) == 401:
        polls += 1
        assert time.monotonic() < deadline, "the new key was never fetched"
        time.sleep(0.2)

    assert status == 200
    assert jwks_fetches(edge) - fetches == 1, f"{polls} polls"
    # A fresh token (not one the edge cached) from the old key, still published.
    old_token = edge.token(f"old-key-{uuid.uuid4().hex}")
    assert client.get("/api/x", headers=bearer(old_token)).status_code == 200


async def test_flood_of_unknown_kids_costs_at_most_one_jwks_fetch(started: StartedEdges) -> None:
    edge = started.edge
    # The second edge has not fetched since it became ready: once the floor has
    # passed, an unknown kid may trigger a fetch, and a flood must share it.
    await asyncio.sleep(max(0.0, started.ready_at + REFETCH_FLOOR_S + 0.5 - time.monotonic()))
    tokens = [TestIssuer(kid=uuid.uuid4().hex).token("flood") for _ in range(50)]
    fetches = await asyncio.to_thread(jwks_fetches, edge)
    async with httpx.AsyncClient(
        base_url=f"https://localhost:{edge.edge_ports[1]}",
        verify=edge.certs.client_context(),
        trust_env=False,
        timeout=10,
    ) as flood:
        responses = await asyncio.gather(
            *(flood.get("/api/x", headers=bearer(token)) for token in tokens)
        )

    assert [r.status_code for r in responses] == [401] * len(tokens)
    assert await asyncio.to_thread(jwks_fetches, edge) - fetches <= 1
