"""`bearer_token` parsing and the 401s of the principal dependency."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.testing import AsyncTestClient

from service_defaults.app import create_service_app
from service_defaults.bearer import bearer_token, provide_principal
from service_defaults.tokens import JwksKeySource, Principal, TokenVerifier
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer
from tests.unit.service_defaults.conftest import JWKS_URL


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("Bearer    ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_takes_the_token_of_a_bearer_scheme_only(
    header: str | None, expected: str | None
) -> None:
    assert bearer_token(header) == expected


@get("/whoami", sync_to_thread=False)
def whoami(principal: NamedDependency[Principal]) -> dict[str, Any]:
    return {"subject": principal.subject}


async def test_principal_dependency_accepts_a_valid_token_and_refuses_others(
    issuer: TestIssuer, wire: respx.MockRouter
) -> None:
    wire.get(JWKS_URL).respond(json=issuer.jwks())
    async with httpx.AsyncClient() as jwks_client:
        verifier = TokenVerifier(
            JwksKeySource(jwks_client, JWKS_URL), issuer=ISSUER, audience=AUDIENCE
        )
        app = create_service_app(
            title="t",
            route_handlers=[whoami],
            dependencies={
                "principal": Provide(provide_principal),
                "token_verifier": Provide(lambda: verifier, sync_to_thread=False),
            },
        )
        async with AsyncTestClient(app=app) as client:
            ok = await client.get(
                "/whoami", headers={"Authorization": f"Bearer {issuer.token('u-7')}"}
            )
            missing = await client.get("/whoami")
            forged = await client.get(
                "/whoami", headers={"Authorization": f"Bearer {TestIssuer(issuer.kid).token()}"}
            )

    assert ok.status_code == 200
    assert ok.json() == {"subject": "u-7"}
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'
