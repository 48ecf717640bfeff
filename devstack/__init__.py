"""Runs the whole stack on one machine: `make run` and the integration tests both use it."""
