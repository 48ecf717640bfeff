"""The bench's own token issuer: one ES256 key, its JWKS, and long-lived tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://bench.invalid/auth"
AUDIENCE = "frontdoor"
KID = "bench-key"


class BenchIssuer:
    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.ECAlgorithm.to_jwk(
            self._key.public_key(), as_dict=True
        )
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "ES256"}]}

    def token(self, subject: str = "bench-user") -> str:
        # One token for the whole run: it must outlive every round.
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 3600}
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": KID})
