"""`Authenticator`: a bearer token verified, then checked against the route's audiences."""

from __future__ import annotations

import time

import pytest

from edge.auth import Authenticator, AuthFailed
from tests.token_issuer import TestIssuer

FRONTDOOR = frozenset({"frontdoor"})
INVALID = b'Bearer error="invalid_token"'


def bearer(token: str) -> bytes:
    return f"Bearer {token}".encode()


async def test_a_valid_token_for_the_audience_is_its_principal(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    principal = await authenticator.authenticate(bearer(issuer.token("alice")), FRONTDOOR)

    assert principal.subject == "alice"
    assert principal.audiences == ("frontdoor",)


async def test_the_scheme_is_case_insensitive(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    principal = await authenticator.authenticate(
        b"bearer " + issuer.token("alice").encode(), FRONTDOOR
    )

    assert principal.subject == "alice"


@pytest.mark.parametrize("authorization", [None, b"", b"Bearer", b"Bearer   ", b"Basic YTpi"])
async def test_no_bearer_token_asks_for_one(
    authenticator: Authenticator, authorization: bytes | None
) -> None:
    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(authorization, FRONTDOOR)

    # RFC 6750 section 3.1: no error code when no token was sent.
    assert failed.value.challenge == b"Bearer"


async def test_a_malformed_token_is_invalid(authenticator: Authenticator) -> None:
    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(b"Bearer not.a.jwt", FRONTDOOR)

    assert failed.value.challenge == INVALID


async def test_an_expired_token_is_invalid(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    long_ago = int(time.time()) - 3600

    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(
            bearer(issuer.token(iat=long_ago - 300, exp=long_ago)), FRONTDOOR
        )

    assert failed.value.challenge == INVALID


async def test_a_token_signed_by_another_key_is_invalid(authenticator: Authenticator) -> None:
    stranger = TestIssuer()

    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(bearer(stranger.token()), FRONTDOOR)

    assert failed.value.challenge == INVALID


async def test_a_token_for_another_audience_of_the_edge_is_invalid_on_this_route(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    # The verifier accepts "partners" for some route; this route accepts only "frontdoor".
    token = issuer.token(aud="partners")

    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(bearer(token), FRONTDOOR)
    principal = await authenticator.authenticate(bearer(token), frozenset({"partners"}))

    assert failed.value.challenge == INVALID
    assert principal.audiences == ("partners",)


async def test_a_token_naming_several_audiences_passes_where_any_one_is_accepted(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    token = issuer.token(aud=["mobile", "partners"])

    principal = await authenticator.authenticate(bearer(token), frozenset({"partners", "x"}))

    assert principal.subject == "user-1"


async def test_an_audience_the_verifier_was_not_built_for_is_invalid(
    authenticator: Authenticator, issuer: TestIssuer
) -> None:
    with pytest.raises(AuthFailed) as failed:
        await authenticator.authenticate(
            bearer(issuer.token(aud="elsewhere")), frozenset({"elsewhere"})
        )

    assert failed.value.challenge == INVALID


def test_the_failure_reads_as_its_challenge() -> None:
    assert str(AuthFailed(INVALID)) == 'Bearer error="invalid_token"'
