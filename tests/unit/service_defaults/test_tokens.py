"""TokenVerifier: the algorithm allow-list, the key decides the algorithm, required claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service_defaults.tokens import InvalidToken, JwksKeySource, Principal, TokenVerifier
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer
from tests.unit.service_defaults.conftest import JWKS_URL, make_verifier, valid_claims, with_kid


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_token(secret: bytes, kid: str) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(valid_claims()).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


async def test_valid_token_yields_its_principal(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    exp = int(time.time()) + 120

    principal = await make_verifier(http_client).verify(issuer.token("alice", exp=exp))

    assert principal == Principal(subject="alice", expires_at=exp, audiences=(AUDIENCE,))


async def test_verifier_with_several_audiences_accepts_a_token_for_any_of_them(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    verifier = TokenVerifier(
        JwksKeySource(http_client, JWKS_URL), issuer=ISSUER, audience=["web", "mobile"]
    )

    for_mobile = await verifier.verify(issuer.token(aud="mobile"))
    for_both = await verifier.verify(issuer.token(aud=["web", "mobile"]))

    assert for_mobile.audiences == ("mobile",)
    assert for_both.audiences == ("web", "mobile")
    with pytest.raises(InvalidToken):
        await verifier.verify(issuer.token(aud="admin"))


async def test_unsigned_alg_none_token_is_rejected(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.kid}).encode())
    token = f"{header}.{b64(json.dumps(valid_claims()).encode())}."

    with pytest.raises(InvalidToken):
        await make_verifier(http_client).verify(token)


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
async def test_hs256_token_keyed_with_the_public_key_is_rejected(
    secret_form: str,
    issuer: TestIssuer,
    wire: respx.MockRouter,
    http_client: httpx.AsyncClient,
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_jwk = json.dumps(issuer.jwks()["keys"][0]).encode()
    secret = public_pem if secret_form == "pem" else public_jwk

    with pytest.raises(InvalidToken):
        await make_verifier(http_client).verify(hs256_token(secret, issuer.kid))


async def test_rs256_header_on_an_ec_key_is_rejected(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(valid_claims(), rsa_key, algorithm="RS256", headers={"kid": issuer.kid})

    with pytest.raises(InvalidToken, match="unknown signing key"):
        await make_verifier(http_client).verify(token)


async def test_token_signed_by_another_key_under_a_known_kid_is_rejected(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())

    with pytest.raises(InvalidToken):
        await make_verifier(http_client).verify(with_kid(issuer.kid))


async def test_malformed_token_is_rejected(
    wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = wire.get(JWKS_URL).respond(json={"keys": []})

    with pytest.raises(InvalidToken):
        await make_verifier(http_client).verify("not-a-jwt")
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"nbf": +120}, "not yet valid"),
        ({"iss": "https://evil.test/auth"}, "issuer"),
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"exp": None}, "exp"),
        ({"sub": None}, "sub"),
        ({"iss": None}, "iss"),
        ({"aud": None}, "aud"),
        ({"sub": ""}, "subject"),
    ],
    ids=[
        "expired",
        "future-nbf",
        "wrong-iss",
        "wrong-aud",
        "missing-exp",
        "missing-sub",
        "missing-iss",
        "missing-aud",
        "empty-sub",
    ],
)
async def test_token_with_bad_claims_is_rejected(
    overrides: dict[str, Any],
    reason: str,
    issuer: TestIssuer,
    wire: respx.MockRouter,
    http_client: httpx.AsyncClient,
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    # Times are offsets from now, resolved here rather than when the parameters were collected.
    now = int(time.time())
    claims = {
        name: now + v if name in ("exp", "nbf") and v is not None else v
        for name, v in overrides.items()
    }

    with pytest.raises(InvalidToken, match=reason):
        await make_verifier(http_client).verify(issuer.token(**claims))


async def test_expiry_within_the_leeway_is_accepted(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    exp = int(time.time()) - 5

    principal = await make_verifier(http_client).verify(issuer.token(exp=exp))

    assert principal.expires_at == exp


@pytest.mark.parametrize(
    "header",
    [{"alg": "ES256", "kid": 123}, {"alg": "ES256", "kid": "k", "crit": ["b64"]}],
    ids=["kid-not-a-string", "crit-header"],
)
async def test_malformed_header_is_an_invalid_token_not_a_crash(header: dict[str, Any]) -> None:
    class NoKeys:
        ready = True

        async def key_for(self, kid: str) -> None:
            return None

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    verifier = TokenVerifier(NoKeys(), issuer=ISSUER, audience=AUDIENCE)

    with pytest.raises(InvalidToken):
        await verifier.verify(f"{part(header)}.{part({})}.c2ln")
