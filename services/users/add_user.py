"""`python -m services.users.add_user USERNAME`: create a user, the password read from stdin.

Production mode has no demo users; this is how the first ones are made. The password
is read, never taken as an argument (arguments show in `ps` and shell history): typed
at a prompt on a terminal, or the first line of standard input otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

import msgspec

from service_defaults.database import open_database, refusals_name
from service_defaults.settings import ConfigError
from services.users.schemas import NewUser
from services.users.settings import load_settings
from services.users.store import UserStore
from services.users.tables import MIGRATIONS


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("add_user: the passwords differ; nothing was created")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def add(database_url: str, user: NewUser) -> str | None:
    async with open_database(database_url, setting="USERS_DATABASE_URL") as database:
        async with refusals_name("USERS_DATABASE_URL"):
            await database.run(MIGRATIONS.require_current)
        return await UserStore(database).add(
            user.username, user.display_name, user.email, user.password
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.users.add_user", description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--display-name", required=True)
    parser.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ)
        user = msgspec.convert(
            {
                "username": args.username,
                "display_name": args.display_name,
                "email": args.email,
                "password": read_password(),
            },
            NewUser,
        )
        user_id = asyncio.run(add(settings.database_url, user))
    except msgspec.ValidationError as exc:
        print(f"add_user: {exc}; nothing was created", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"add_user: configuration error: {exc}", file=sys.stderr)
        return 2
    if user_id is None:
        print(f"add_user: the username {args.username!r} is taken", file=sys.stderr)
        return 1
    print(f"created user {args.username} with id {user_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
