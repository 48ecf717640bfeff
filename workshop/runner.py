"""Runs an exercise's checker against its copy and says what is left to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from workshop.checks import COPY_VARIABLE, EXERCISE_VARIABLE, RESULT_VARIABLE
from workshop.exercises import EXERCISES, REPOSITORY, Exercise, following

# The only plugin a checker needs (the copy's pyproject configures it); the
# others installed, schemathesis and hypothesis among them, cost two seconds a run
# to load, so plugin autoloading is off (PYTEST_DISABLE_PLUGIN_AUTOLOAD).
PLUGINS = ("-p", "pytest_asyncio.plugin")
# A checker takes seconds; this only stops a hung one from hanging the terminal.
CHECKER_TIMEOUT_S = 600


@dataclass(frozen=True)
class CheckResult:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # (check, reason): a check that could not run here, such as one needing Redis.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.passed) and not self.failed and not self.skipped


def checker_command(exercise: Exercise, copy: Path) -> list[str]:
    """pytest on the checker module, configured by the copy and importing from it.

    `-c` makes the copy's pyproject.toml the configuration (its `pythonpath`
    puts the copy first on sys.path), and the importlib import mode keeps pytest
    from putting this checkout first to import the checker module.
    """
    return [
        sys.executable, "-m", "pytest", str(exercise.checks), *PLUGINS,
        "-c", str(copy / "pyproject.toml"), "--rootdir", str(copy),
        "--import-mode=importlib", "-p", "no:cacheprovider",
        # The failure messages say it all: no captured log lines under them.
        "-q", "--no-header", "-rN", "--tb=short", "--show-capture=no",
    ]  # fmt: skip


def run_checks(exercise: Exercise, copy: Path) -> CheckResult:
    """Run the checker, its output going to this process's own; the outcome of each check."""
    with tempfile.TemporaryDirectory(prefix="workshop-") as scratch:
        summary = Path(scratch) / "result.json"
        env = {
            **os.environ,
            # Only the copy: a PYTHONPATH naming this checkout would check the reference instead.
            "PYTHONPATH": str(copy),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            COPY_VARIABLE: str(copy),
            EXERCISE_VARIABLE: str(exercise.number),
            RESULT_VARIABLE: str(summary),
        }
        sys.stdout.flush()
        try:
            # Our own interpreter running pytest on our own checker: nothing from a user.
            subprocess.run(  # noqa: S603
                checker_command(exercise, copy),
                cwd=copy,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
                timeout=CHECKER_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return CheckResult(failed=[f"the checker finished within {CHECKER_TIMEOUT_S} s"])
        if not summary.exists():
            return CheckResult(failed=["the checker ran to its end (see its output above)"])
        outcome = json.loads(summary.read_text())
    return CheckResult(
        passed=[str(name) for name in outcome["passed"]],
        failed=[str(name) for name in outcome["failed"]],
        skipped=[(str(name), str(reason)) for name, reason in outcome["skipped"]],
    )


def described(check: str) -> str:
    """`…/test_exercise_02.py::test_the_sixth_report_is_429[x]` as `the sixth report is 429 [x]`."""
    name = check.rpartition("::")[2]
    name, _, parameters = name.partition("[")
    words = name.removeprefix("test_").replace("_", " ")
    return f"{words} [{parameters}" if parameters else words


def heading(exercise: Exercise, copy: Path, made: bool) -> str:
    fresh = " (just made from HEAD)" if made else ""
    return "\n".join(
        [
            f"Exercise {exercise.number} of {len(EXERCISES)}: {exercise.title}",
            f"Your copy{fresh}, where you edit: {copy}",
            f"The task, hints and what is checked: {exercise.page}",
            f"Run its code with this environment's Python: cd {copy} && {sys.executable} -m …",
            "",
        ]
    )


def verdict(exercise: Exercise, copy: Path, result: CheckResult) -> str:
    n = exercise.number
    if result.done:
        solution = exercise.solution.relative_to(REPOSITORY)
        yours = f" with your changes (git -C {copy} diff)" if solution.suffix == ".patch" else ""
        lines = [
            f"Exercise {n} is done: all {len(result.passed)} checks pass.",
            f"Compare the reference solution, {solution},{yours}.",
        ]
        after = following(exercise)
        if after is None:
            lines.append("That was the last exercise: the workshop is done.")
        else:
            lines.append(
                f"Next: exercise {after.number}, {after.title}: make exercise {after.number}"
                f" ({after.page})."
            )
        return "\n".join(lines)
    if result.failed:
        total = len(result.passed) + len(result.failed) + len(result.skipped)
        fail = "check fails" if len(result.failed) == 1 else "checks fail"
        lines = [f"Exercise {n} is not done yet: {len(result.failed)} of {total} {fail}."]
        lines += [f"  - {described(check)}" for check in result.failed]
        lines.append(
            f"Each failure above says what is missing and where to look; {exercise.page} has hints."
        )
    else:
        lines = [f"Exercise {n} could not be checked here:"]
    lines += [f"  - {described(check)}: skipped, {reason}" for check, reason in result.skipped]
    lines.append(
        f"Edit the copy, then `make exercise {n}` again. Start over: `make exercise-reset {n}`."
    )
    return "\n".join(lines)
