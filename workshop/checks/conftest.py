"""What every checker shares: it runs only against a copy, and leaves a summary for the runner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from workshop.checks import COPY_VARIABLE, RESULT_VARIABLE


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(COPY_VARIABLE):
        return
    # Collected by hand from the checkout: they would check the reference code, not a copy.
    skip = pytest.mark.skip(reason="checkers run against a copy: make exercise N")
    for item in items:
        item.add_marker(skip)


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    # A skip's longrepr is (file, line, "Skipped: reason").
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    target = os.environ.get(RESULT_VARIABLE)
    if not target:
        return
    stats = terminalreporter.stats
    # Setup errors and collection errors (an import that fails in the copy) count as failures.
    failed = [r.nodeid for key in ("failed", "error") for r in stats.get(key, [])]
    summary = {
        "passed": [r.nodeid for r in stats.get("passed", [])],
        "failed": list(dict.fromkeys(failed)),
        "skipped": [(r.nodeid, _reason(r)) for r in stats.get("skipped", [])],
    }
    Path(target).write_text(json.dumps(summary))
