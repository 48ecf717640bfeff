"""Reference solutions, one per exercise: `NN.patch` (a unified diff) or `NN.sh` (commands).

Read them after trying: `git apply workshop/solutions/NN.patch` inside a copy
gives the exercise's answer, and the workshop's own tests apply each one to
prove that its checker passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from workshop.exercises import Exercise

GIT = shutil.which("git") or "git"
SH = shutil.which("sh") or "sh"


class SolutionError(Exception):
    """A reference solution no longer applies to the copy: the code moved under it."""


def apply_solution(exercise: Exercise, copy: Path) -> None:
    solution = exercise.solution
    if solution.suffix == ".patch":
        command = [GIT, "-C", str(copy), "apply", str(solution)]
    else:
        command = [SH, str(solution)]
    # Fixed commands on the workshop's own files; the script runs with this
    # environment's Python, importing the copy's code.
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(copy)}
    done = subprocess.run(  # noqa: S603
        command, cwd=copy, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SolutionError(f"{solution.name} does not apply to {copy}: {done.stderr.strip()}")
