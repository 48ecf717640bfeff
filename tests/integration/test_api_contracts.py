"""Each app answers as the OpenAPI it serves says: schemathesis, all checks, real processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.topology import Topology
from tests.running_stack import start_stack

pytestmark = pytest.mark.integration

# Bounded and reproducible: the same cases on every run, none shrunk. The coverage
# phase adds its own fixed cases per operation; the stateful phase follows links.
# Deterministic generation makes schemathesis ignore the seed; it holds if that is off.
CONFIG = """\
seed = 20251201
request-timeout = 10

[generation]
max-examples = 20
deterministic = true
no-shrink = true

[phases.stateful]
max-steps = 5
"""
# A key reused with another body is a 422 (draft-ietf-httpapi-idempotency-key-header,
# section 2.7) and is documented; this check cannot know that the key was used before.
KEY_REUSE_IS_422 = """
[[operations]]
include-name = "POST {path}"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429",
]
"""
ORDER_PLACING = {"orders": "/orders", "bff_web": "/api/web/orders"}


@pytest.fixture(scope="module")
def contract_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    # A stack of its own: the fuzzer places and cancels alice's orders, which the
    # session's shared stack, and the tests reading her demo orders, must not see.
    stack, topology = start_stack(tmp_path_factory.mktemp("contracts"))
    try:
        yield topology
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def alice_token(contract_stack: Topology) -> str:
    response = httpx.post(
        contract_stack.internal_url("users") + "/auth/token",
        json={"username": "alice", "password": "alice"},
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("app", ["users", "orders", "bff_web", "bff_mobile"])
def test_app_answers_as_its_openapi_document_says(
    app: str, contract_stack: Topology, alice_token: str, tmp_path: Path
) -> None:
    # The command line, exactly as an outside fuzzer runs it: schemathesis 4's pytest
    # loader for fixtures (`schemathesis.pytest.from_fixture`) fails on pytest 9.2.
    config = tmp_path / "schemathesis.toml"
    extra = KEY_REUSE_IS_422.format(path=ORDER_PLACING[app]) if app in ORDER_PLACING else ""
    config.write_text(CONFIG + extra)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", f"{contract_stack.internal_url(app)}/schema/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {alice_token}",
        # One worker: the five processes under test share the same two cores.
        "--workers", "1",
    ]  # fmt: skip

    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stdout + run.stderr
