"""`python -m workshop check N` and `reset N`: `make exercise N` and `make exercise-reset N`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from workshop.copies import CopyError, ensure_copy, main_checkout, reset_copy
from workshop.exercises import EXERCISES, PACKAGE, find_exercise
from workshop.runner import heading, run_checks, verdict

USAGE = (
    f"usage: python -m workshop check|reset N, N from 1 to {len(EXERCISES)} "
    "(make exercise N, make exercise-reset N; docs/workshop/README.md)"
)
# The exit status for a command line that names no command or no exercise.
USAGE_ERROR = 2


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("check", "reset"):
        print(USAGE, file=sys.stderr)
        return USAGE_ERROR
    command, number = argv
    exercise = find_exercise(number)
    if exercise is None:
        print(
            f"workshop: there is no exercise {number!r}; the exercises are 1 to {len(EXERCISES)}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        # The copies belong to the main checkout, even when this runs inside a copy.
        checkout = main_checkout(PACKAGE)
        if command == "reset":
            copy = reset_copy(checkout, exercise)
            print(f"Exercise {exercise.number} starts over in a fresh copy of HEAD: {copy}")
            print(f"The task: {exercise.page}. Check it with `make exercise {exercise.number}`.")
            return 0
        copy, made = ensure_copy(checkout, exercise)
    except CopyError as exc:
        print(f"workshop: {exc}", file=sys.stderr)
        return 1
    print(heading(exercise, copy, made))
    result = run_checks(exercise, copy)
    print()
    print(verdict(exercise, copy, result))
    return 0 if result.done else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        # Ctrl-C during a check: the checker's own output already says where it stopped.
        sys.exit(130)
