"""The users service over HTTP: the token endpoint, the JWKS, and owner-only profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from services.users.settings import Settings
from services.users.signing_keys import rotate
from tests.unit.users.conftest import ALICE_ID, BOB_ID, Client, login

PROBLEM_JSON = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def published_keys(client: Client) -> dict[str, dict[str, Any]]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {key["kid"]: key for key in response.json()["keys"]}


async def test_login_answers_a_bearer_token_that_must_not_be_cached(
    client: Client, settings: Settings
) -> None:
    response = await client.post("/auth/token", json={"username": "alice", "password": "alice"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.token_ttl_s
    assert body["access_token"].count(".") == 2


async def test_issued_token_is_es256_signed_by_a_published_key(
    client: Client, settings: Settings, alice_token: str
) -> None:
    header = jwt.get_unverified_header(alice_token)
    keys = await published_keys(client)

    assert header["alg"] == "ES256"
    assert header["kid"] in keys
    claims = jwt.decode(
        alice_token,
        jwt.PyJWK(keys[header["kid"]]),
        algorithms=["ES256"],
        audience=settings.token_audience,
        issuer=settings.token_issuer,
    )
    assert claims["sub"] == ALICE_ID
    assert claims["exp"] - claims["iat"] == settings.token_ttl_s
    assert {"iss", "aud", "sub", "iat", "exp"} <= claims.keys()


async def test_jwks_publishes_no_private_key_material(client: Client) -> None:
    keys = await published_keys(client)

    assert keys
    for key in keys.values():
        assert "d" not in key
        assert key["kty"] == "EC"
        assert key["alg"] == "ES256"


async def test_wrong_password_and_unknown_user_get_the_same_401(client: Client) -> None:
    wrong_password = await client.post("/auth/token", json={"username": "alice", "password": "bob"})
    unknown_user = await client.post(
        "/auth/token", json={"username": "mallory", "password": "alice"}
    )

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json()["detail"] == unknown_user.json()["detail"]
    assert wrong_password.headers["cache-control"] == "no-store"


async def test_login_missing_a_field_is_422_naming_it(client: Client) -> None:
    response = await client.post("/auth/token", json={"username": "alice"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"][0]["field"] == "password"


async def test_me_answers_the_callers_profile_without_the_password_hash(
    client: Client, alice_token: str
) -> None:
    response = await client.get("/users/me", headers=bearer(alice_token))

    assert response.status_code == 200
    profile = response.json()
    assert profile["id"] == ALICE_ID
    assert profile["username"] == "alice"
    assert profile["email"] == "alice@example.com"
    assert set(profile) == {"id", "username", "display_name", "email", "created_at"}
    assert "scrypt" not in response.text


async def test_own_profile_by_id_is_200(client: Client, alice_token: str) -> None:
    response = await client.get(f"/users/{ALICE_ID}", headers=bearer(alice_token))

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


async def test_someone_elses_profile_is_404_like_an_unknown_id(
    client: Client, alice_token: str
) -> None:
    foreign = await client.get(f"/users/{BOB_ID}", headers=bearer(alice_token))
    unknown = await client.get("/users/no-such-user", headers=bearer(alice_token))

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]
    assert "bob" not in foreign.text


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic YWxpY2U6YWxpY2U="], ids=str
)
async def test_me_without_a_valid_token_is_401(client: Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.get("/users/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_rotation_on_disk_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    client: Client, settings: Settings, alice_token: str
) -> None:
    new_key = rotate(Path(settings.signing_keys_path), token_ttl_s=settings.token_ttl_s, dev=True)

    old_token_answer = await client.get("/users/me", headers=bearer(alice_token))
    fresh_token = await login(client, "alice", "alice")

    assert old_token_answer.status_code == 200
    assert jwt.get_unverified_header(fresh_token)["kid"] == new_key.kid
    assert set(await published_keys(client)) == {
        jwt.get_unverified_header(alice_token)["kid"],
        new_key.kid,
    }
