"""How a check fails: one message saying what is missing and where to look, without a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from workshop.checks import COPY_VARIABLE, EXERCISE_VARIABLE


def fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


def require(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def copy_root() -> Path:
    return Path(os.environ[COPY_VARIABLE])


def copy_file(relative: str) -> Path:
    """A file of the copy that the exercise needs, which a copy made before the workshop lacks."""
    path = copy_root() / relative
    number = os.environ.get(EXERCISE_VARIABLE, "N")
    require(
        path.is_file(),
        f"{relative} is not in your copy ({copy_root()}). It is part of the workshop: if the copy "
        "was made from a commit before the workshop's, commit it, then start the exercise over "
        f"(make exercise-reset {number}).",
    )
    return path
