"""The six exercises, in the order the workshop takes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workshop.starting_state import issue_key_file_and_token

PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parent
CHECKS = PACKAGE / "checks"
SOLUTIONS = PACKAGE / "solutions"


@dataclass(frozen=True)
class Exercise:
    number: int
    slug: str
    title: str
    # What a fresh copy needs beyond the commit it is made from (files git must not hold).
    prepare: Callable[[Path], None] | None = None

    @property
    def page(self) -> str:
        """The exercise's page, relative to the repository root."""
        return f"docs/workshop/{self.number:02d}-{self.slug}.md"

    @property
    def checks(self) -> Path:
        return CHECKS / f"test_exercise_{self.number:02d}.py"

    @property
    def solution(self) -> Path:
        """A patch to `git apply` inside the copy, or a shell script run there."""
        for suffix in (".patch", ".sh"):
            path = SOLUTIONS / f"{self.number:02d}{suffix}"
            if path.exists():
                return path
        raise FileNotFoundError(f"no reference solution for exercise {self.number} in {SOLUTIONS}")


EXERCISES = (
    Exercise(1, "follow-a-request", "Follow one request and say where its time went"),
    Exercise(2, "route-and-rate-limit", "Add a route and a rate-limit policy at the edge"),
    Exercise(3, "mobile-home-field", "Add a field to the phone's home screen within its budget"),
    Exercise(4, "slow-service", "Bound a slow service: deadline, degradation, circuit breaker"),
    Exercise(
        5,
        "rotate-signing-keys",
        "Rotate the signing keys without a restart",
        prepare=issue_key_file_and_token,
    ),
    Exercise(6, "edge-replicas-on-redis", "Two edge replicas, one rate limit"),
)


def find_exercise(text: str) -> Exercise | None:
    """The exercise `text` names ("3", "03"), or None."""
    if not (text.isascii() and text.isdigit()):
        return None
    return next((e for e in EXERCISES if e.number == int(text)), None)


def following(exercise: Exercise) -> Exercise | None:
    return next((e for e in EXERCISES if e.number == exercise.number + 1), None)
