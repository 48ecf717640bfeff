"""The signing key file: rotation, pruning, reload without restart, owner-only permissions."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import jwt
import msgspec
import pytest

from service_defaults.settings import ConfigError
from service_defaults.tokens import TokenVerifier
from services.users.signing_keys import (
    KeyFile,
    KeyRing,
    generate_key,
    read_key_file,
    rotate,
    write_key_file,
)

TTL = 900
ISSUER = "https://users.test/auth"
AUDIENCE = "frontdoor"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


def token_from(ring: KeyRing, subject: str = "u-1") -> str:
    now = int(time.time())
    return ring.sign({"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 60})


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def test_rotate_adds_a_key_and_keeps_the_retired_one_published(path: Path) -> None:
    first = rotate(path, token_ttl_s=TTL)
    second = rotate(path, token_ttl_s=TTL)

    keys = {key.kid: key for key in read_key_file(path).keys}
    assert set(keys) == {first.kid, second.kid}
    assert keys[first.kid].retired_at is not None
    assert keys[second.kid].retired_at is None
    assert {key["kid"] for key in KeyRing(path).jwks()["keys"]} == {first.kid, second.kid}


def test_key_retired_longer_than_the_token_ttl_ago_is_pruned(path: Path) -> None:
    now = time.time()
    expired = msgspec.structs.replace(generate_key(dev=False), retired_at=now - TTL - 5)
    recent = msgspec.structs.replace(generate_key(dev=False), retired_at=now - TTL + 60)
    current = generate_key(dev=False)
    write_key_file(path, KeyFile(keys=[expired, recent, current]))

    new = rotate(path, token_ttl_s=TTL)

    assert {key.kid for key in read_key_file(path).keys} == {recent.kid, current.kid, new.kid}


async def test_token_signed_before_rotation_still_verifies_after_it(path: Path) -> None:
    rotate(path, token_ttl_s=TTL)
    ring = KeyRing(path)
    old_token = token_from(ring, "before")

    rotate(path, token_ttl_s=TTL)

    assert await ring.key_for(kid_of(old_token)) is not None
    verifier = TokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)
    assert (await verifier.verify(old_token)).subject == "before"


def test_key_ring_picks_up_a_rotation_on_disk_without_restart(path: Path) -> None:
    first = rotate(path, token_ttl_s=TTL)
    ring = KeyRing(path)
    assert kid_of(token_from(ring)) == first.kid

    second = rotate(path, token_ttl_s=TTL)

    assert kid_of(token_from(ring)) == second.kid


def test_key_file_is_readable_by_its_owner_only(path: Path) -> None:
    rotate(path, token_ttl_s=TTL)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_is_owner_only_even_over_a_leftover_temporary_file(path: Path) -> None:
    # A rotation that crashed between writing and renaming leaves the temporary file behind.
    leftover = path.with_suffix(".tmp")
    leftover.write_bytes(b"")
    leftover.chmod(0o644)

    rotate(path, token_ttl_s=TTL)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_key_file_is_a_config_error(path: Path) -> None:
    write_key_file(path, KeyFile(keys=[]))

    with pytest.raises(ConfigError, match="holds no signing keys"):
        KeyRing(path)
