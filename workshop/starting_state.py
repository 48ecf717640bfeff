"""What a fresh copy gets beyond the commit it is made from: exercise 5's key file and token.

Private keys never go into git, so the key file a learner rotates is made here,
when the copy is made, with the users service's own code.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from services.users.settings import Settings
from services.users.signing_keys import KeyRing, rotate

# Where the users service looks by default, relative to the copy: the learner's
# rotation needs no --path.
KEY_FILE = Path(Settings().signing_keys_path)
TOKEN_FILE = Path(".state/token-signed-before-rotation.jwt")
# Outlives the service's token lifetime on purpose, so that the exercise may take
# longer than fifteen minutes without the saved token expiring under the learner.
WORKSHOP_TOKEN_TTL_S = 7 * 24 * 3600


def issue_key_file_and_token(copy: Path) -> None:
    """A key file holding one development key, and a token that key signed."""
    settings = Settings()
    key_file = copy / KEY_FILE
    key_file.parent.mkdir(parents=True, exist_ok=True)
    rotate(key_file, token_ttl_s=settings.token_ttl_s, dev=True)
    now = int(time.time())
    token = KeyRing(key_file).sign(
        {
            "iss": settings.token_issuer,
            "aud": settings.token_audience,
            "sub": "workshop-learner",
            "iat": now,
            "exp": now + WORKSHOP_TOKEN_TTL_S,
            "jti": uuid.uuid4().hex,
        }
    )
    (copy / TOKEN_FILE).write_text(token + "\n")
