"""The Python files the scaffold wrote, formatted by the project's own ruff: a name
longer than `orders` makes some lines too long, and a new import may sort earlier."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PASSES = (
    ["check", "--quiet", "--fix", "--select", "I"],  # import order only: nothing else changes
    ["format", "--quiet"],
)


def format_python(root: Path, paths: list[Path]) -> str | None:
    """None once formatted; otherwise what went wrong, for the report."""
    if not paths:
        return None
    for arguments in PASSES:
        try:
            done = subprocess.run(  # noqa: S603 - this interpreter runs the project's ruff
                [sys.executable, "-m", "ruff", *arguments, *map(str, paths)],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            return f"ruff did not run: {exc}"
        if done.returncode != 0:
            return f"ruff {arguments[0]} failed: {(done.stderr or done.stdout).strip()}"
    return None
