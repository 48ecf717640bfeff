"""The browser tests drive the same real stack as the integration tests."""

from tests.integration.conftest import running, stack, topology  # noqa: F401
