"""The token signing keys: a key file on disk, its public JWKS, and rotation.

The newest key signs; older keys stay published until every token they signed
has expired, so rotating never logs anybody out. The file is re-read when it
changes, so a rotation reaches the running service without a restart.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service_defaults.settings import ConfigError

ALGORITHM = "ES256"


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    private_pem: str
    created_at: float
    retired_at: float | None = None
    # Generated for local development; a production start refuses such keys.
    dev: bool = False


class KeyFile(msgspec.Struct, kw_only=True):
    keys: list[SigningKey]


def generate_key(*, dev: bool) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return SigningKey(kid=uuid.uuid4().hex, private_pem=pem, created_at=time.time(), dev=dev)


def write_key_file(path: Path, key_file: KeyFile) -> None:
    """Write atomically with owner-only permissions: readers never see half a file."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The mode above applies only to a new file; a leftover one keeps its own.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(msgspec.json.format(msgspec.json.encode(key_file)))
    tmp.replace(path)


def rotate(path: Path, *, token_ttl_s: int, dev: bool = False) -> SigningKey:
    """Add a new signing key, retire the current one, drop keys whose tokens have all expired."""
    now = time.time()
    old = read_key_file(path).keys if path.exists() else []
    kept = [
        key if key.retired_at else msgspec.structs.replace(key, retired_at=now)
        for key in old
        if key.retired_at is None or now - key.retired_at < token_ttl_s
    ]
    new = generate_key(dev=dev)
    write_key_file(path, KeyFile(keys=[*kept, new]))
    return new


def read_key_file(path: Path) -> KeyFile:
    try:
        key_file = msgspec.json.decode(path.read_bytes(), type=KeyFile)
    except (OSError, msgspec.DecodeError) as exc:
        raise ConfigError(f"cannot read signing keys from {path}: {exc}") from None
    if not key_file.keys:
        raise ConfigError(f"{path} holds no signing keys")
    return key_file


class KeyRing:
    """The signing keys of a running service, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mtime: tuple[int, int, int] = (-1, -1, -1)
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._public: dict[str, jwt.PyJWK] = {}
        self._current = ""
        self.reload_if_changed()

    @property
    def has_dev_keys(self) -> bool:
        return any(key.dev for key in read_key_file(self._path).keys)

    def reload_if_changed(self) -> None:
        info = self._path.stat()
        # Size and inode too: a coarse clock or a copy that keeps the mtime
        # must not hide a rotation.
        mtime = (info.st_ino, info.st_mtime_ns, info.st_size)
        if mtime == self._mtime:
            return
        keys = read_key_file(self._path).keys
        private = {}
        for key in keys:
            loaded = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise ConfigError(f"{self._path}: key {key.kid} is not an EC key")
            private[key.kid] = loaded
        self._private = private
        self._public = {kid: jwt.PyJWK(self._public_jwk(kid), ALGORITHM) for kid in private}
        self._current = max(keys, key=lambda key: key.created_at).kid
        self._mtime = mtime

    def _public_jwk(self, kid: str) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.ECAlgorithm.to_jwk(self._private[kid].public_key())
        )
        return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, Any]:
        self.reload_if_changed()
        return {"keys": [self._public_jwk(kid) for kid in self._private]}

    def sign(self, claims: dict[str, Any]) -> str:
        self.reload_if_changed()
        return jwt.encode(
            claims,
            self._private[self._current],
            algorithm=ALGORITHM,
            headers={"kid": self._current},
        )

    # KeySource for service_defaults.tokens.TokenVerifier: the service checks
    # its own tokens without an HTTP round trip to itself.
    @property
    def ready(self) -> bool:
        return bool(self._public)

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        self.reload_if_changed()
        return self._public.get(kid)
