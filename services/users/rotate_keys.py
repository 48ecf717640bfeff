"""`python -m services.users.rotate_keys`: add a signing key and retire the current one."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from services.users.settings import load_settings
from services.users.signing_keys import rotate


def main() -> None:
    settings = load_settings(os.environ)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, default=Path(settings.signing_keys_path))
    parser.add_argument("--dev", action="store_true", help="mark the key as a development key")
    args = parser.parse_args()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    key = rotate(args.path, token_ttl_s=settings.token_ttl_s, dev=args.dev)
    print(
        f"new signing key {key.kid} in {args.path}; older keys stay published for "
        f"{settings.token_ttl_s}s so their tokens keep working"
    )


if __name__ == "__main__":
    main()
