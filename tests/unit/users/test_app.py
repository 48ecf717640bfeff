"""The users service refuses to start with missing or development keys outside dev mode.

Keys are opened by the lifespan, not by `create_app`: each test starts the app."""

from __future__ import annotations

import stat
from pathlib import Path

from litestar.testing import AsyncTestClient

from services.users.app import create_app
from services.users.settings import Settings
from services.users.signing_keys import read_key_file, rotate
from services.users.tables import MIGRATIONS
from tests.databases import migrated
from tests.unit.startup import refuses_to_start, start_and_stop


def database(tmp_path: Path) -> str:
    return migrated(f"sqlite:///{tmp_path}/users.db", MIGRATIONS)


def production(tmp_path: Path, keys: Path) -> Settings:
    return Settings(
        environment="production",
        database_url=database(tmp_path),
        signing_keys_path=str(keys),
    )


async def test_production_without_a_key_file_refuses_to_start(tmp_path: Path) -> None:
    app = create_app(production(tmp_path, tmp_path / "missing.json"))

    with refuses_to_start(r"^USERS_SIGNING_KEYS_PATH: .* does not exist"):
        await start_and_stop(app)


async def test_production_with_development_keys_refuses_to_start(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    rotate(keys, token_ttl_s=900, dev=True)
    app = create_app(production(tmp_path, keys))

    with refuses_to_start(r"^USERS_SIGNING_KEYS_PATH: .*development keys"):
        await start_and_stop(app)


async def test_production_with_an_unreadable_key_file_names_the_variable(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text("not json")
    app = create_app(production(tmp_path, keys))

    with refuses_to_start(r"^USERS_SIGNING_KEYS_PATH: cannot read signing keys"):
        await start_and_stop(app)


async def test_production_with_production_keys_starts(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    rotate(keys, token_ttl_s=900, dev=False)

    async with AsyncTestClient(app=create_app(production(tmp_path, keys))) as client:
        jwks = await client.get("/.well-known/jwks.json")

    assert jwks.status_code == 200
    assert len(jwks.json()["keys"]) == 1


async def test_dev_mode_creates_a_dev_key_file_owner_only(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    settings = Settings(
        environment="dev",
        database_url=database(tmp_path),
        signing_keys_path=str(keys),
    )

    await start_and_stop(create_app(settings))

    assert [key.dev for key in read_key_file(keys).keys] == [True]
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600


async def test_dev_mode_with_a_missing_key_directory_names_the_variable(tmp_path: Path) -> None:
    settings = Settings(
        environment="dev",
        database_url=f"sqlite:///{tmp_path}/users.db",
        signing_keys_path=str(tmp_path / "absent" / "keys.json"),
    )

    with refuses_to_start(r"^USERS_SIGNING_KEYS_PATH: directory"):
        await start_and_stop(create_app(settings))
