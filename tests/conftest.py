"""One real stack per session, shared by the integration and the browser tests."""

pytest_plugins = ["tests.running_stack"]
