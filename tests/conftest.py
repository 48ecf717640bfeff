"""One real stack per session, shared by the integration and the browser tests, and
the databases (SQLite and PostgreSQL) the services' tests run on."""

pytest_plugins = ["tests.running_stack", "tests.databases"]
