"""scrypt password hashes: the format, verification, and a fresh salt per hash."""

from __future__ import annotations

import re

from services.users.passwords import hash_password, verify_password

SCRYPT_FORMAT = re.compile(r"scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}")


def test_hash_is_in_scrypt_format_with_its_parameters() -> None:
    assert SCRYPT_FORMAT.fullmatch(hash_password("correct horse"))


def test_the_right_password_verifies() -> None:
    assert verify_password("correct horse", hash_password("correct horse")) is True


def test_a_wrong_password_does_not_verify() -> None:
    assert verify_password("correct hors", hash_password("correct horse")) is False


def test_two_hashes_of_one_password_differ_by_salt() -> None:
    first, second = hash_password("same"), hash_password("same")

    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("same", first) and verify_password("same", second)


def test_hash_of_another_scheme_does_not_verify() -> None:
    stored = hash_password("pw").replace("scrypt$", "bcrypt$", 1)

    assert verify_password("pw", stored) is False
