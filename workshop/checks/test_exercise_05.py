"""Exercise 5: the copy's signing keys rotated, with no token signed before the rotation refused.

A fresh copy holds one development key in .state/signing-keys.json and a token it
signed in .state/token-signed-before-rotation.jwt (workshop/starting_state.py).
The checks read the rotated file with the users service's own key code, and
verify the token as the edge and the orders service do: from the public JWKS.
"""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import msgspec

from service_defaults.tokens import InvalidToken, TokenVerifier
from services.users.settings import Settings
from services.users.signing_keys import KeyFile, KeyRing, SigningKey, read_key_file, write_key_file
from workshop.checks.verdicts import copy_root, fail, require
from workshop.starting_state import KEY_FILE, TOKEN_FILE

ROTATE = "services/users/rotate_keys.py"
DOCS = "docs/configuration.md, 'Signing keys'"
START_OVER = "the copy's key file or saved token is gone: make exercise-reset 5 starts over"


class PublishedKeys:
    """The keys a verifier knows from the JWKS the users service publishes: public keys only."""

    def __init__(self, ring: KeyRing) -> None:
        self._keys = {key["kid"]: jwt.PyJWK(key) for key in ring.jwks()["keys"]}

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    @property
    def ready(self) -> bool:
        return bool(self._keys)


def key_file() -> Path:
    path = copy_root() / KEY_FILE
    require(path.is_file(), START_OVER)
    return path


def first_kid() -> str:
    """The key id of the copy's first key: the one that signed the saved token."""
    token = copy_root() / TOKEN_FILE
    require(token.is_file(), START_OVER)
    return str(jwt.get_unverified_header(token.read_text().strip())["kid"])


def keys() -> list[SigningKey]:
    return read_key_file(key_file()).keys


def first_key() -> SigningKey:
    kid = first_kid()
    found = next((key for key in keys() if key.kid == kid), None)
    if found is None:
        fail(
            f"The key that signed the saved token ({kid[:8]}…) is gone from {KEY_FILE}: every "
            "token it signed is refused now, and everybody is signed out. Rotation keeps it "
            f"published until those tokens have expired ({ROTATE}).",
        )
    return found


def rotated() -> None:
    first_key()
    require(len(keys()) >= 2, f"{KEY_FILE} holds no new key yet (see the first check).")


def test_the_key_file_holds_a_new_key_beside_the_old_one() -> None:
    first_key()
    require(
        len(keys()) >= 2,
        f"{KEY_FILE} in your copy still holds one key. Rotate it with the users service's own "
        f"command ({ROTATE}; {DOCS}), run in the copy.",
    )


def test_the_old_key_is_retired_and_the_new_one_signs() -> None:
    rotated()
    require(
        first_key().retired_at is not None,
        f"The first key is not marked retired in {KEY_FILE}: the service would go on signing "
        f"with it. {ROTATE} retires it as it adds the new key.",
    )
    signed = KeyRing(key_file()).sign({"sub": "workshop"})
    kid = jwt.get_unverified_header(signed)["kid"]
    require(
        kid != first_kid(),
        "The users service still signs with the first key: the newest key signs (KeyRing in "
        "services/users/signing_keys.py).",
    )


async def test_a_token_signed_before_the_rotation_still_verifies() -> None:
    rotated()
    settings = Settings()
    verifier = TokenVerifier(
        PublishedKeys(KeyRing(key_file())),
        issuer=settings.token_issuer,
        audience=[settings.token_audience],
    )
    try:
        await verifier.verify((copy_root() / TOKEN_FILE).read_text().strip())
    except InvalidToken as exc:
        fail(f"The token signed before the rotation is refused ({exc}): its user is signed out.")


def test_a_running_service_takes_the_rotation_without_a_restart(tmp_path: Path) -> None:
    rotated()
    # The service as it was before the rotation: its key file held the first key alone.
    watched = tmp_path / "signing-keys.json"
    original = msgspec.structs.replace(first_key(), retired_at=None)
    write_key_file(watched, KeyFile(keys=[original]))
    ring = KeyRing(watched)
    require(jwt.get_unverified_header(ring.sign({}))["kid"] == original.kid, START_OVER)
    # The rotation lands in the file it watches, as the learner's landed in the copy's.
    write_key_file(watched, read_key_file(key_file()))
    kid = jwt.get_unverified_header(ring.sign({}))["kid"]
    require(
        kid != original.kid and len(ring.jwks()["keys"]) >= 2,
        "A running key ring did not take the rotated file: it should reload it when it changes "
        "(KeyRing.reload_if_changed in services/users/signing_keys.py).",
    )


def test_the_key_file_stays_readable_by_its_owner_only() -> None:
    mode = stat.S_IMODE(key_file().stat().st_mode)
    require(
        mode & 0o077 == 0,
        f"{KEY_FILE} is readable by others (mode {mode:o}): it holds private keys. {ROTATE} writes "
        "it owner-only (0600); a copy or an editor may not.",
    )
