"""Each exercise's copy of the repository: a detached git worktree under `.state/workshop/`.

A learner edits the copy, never the checkout it came from, so the reference code
stays as it is and starting over is one command. `.state/` is git-ignored, so
the copies never show up in the checkout's own `git status`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from workshop.exercises import Exercise

COPIES = Path(".state") / "workshop"
GIT = shutil.which("git") or "git"


class CopyError(Exception):
    """The copy cannot be made, found or removed; the message says what to do."""


def git(directory: Path, *args: str) -> str:
    # Our own fixed git commands on paths we chose: no shell, nothing from a user.
    done = subprocess.run(  # noqa: S603
        [GIT, "-C", str(directory), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CopyError(
            f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout.strip()


def main_checkout(start: Path) -> Path:
    """The repository's main working tree, also when `start` is inside one of the copies."""
    # A linked worktree's git directory lives inside the main one's: its parent is the checkout.
    common = git(start, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(common).parent


def copy_path(checkout: Path, exercise: Exercise) -> Path:
    return checkout / COPIES / f"exercise-{exercise.number}"


def _registered(checkout: Path, path: Path) -> bool:
    listing = git(checkout, "worktree", "list", "--porcelain")
    return any(
        Path(line.removeprefix("worktree ")).resolve() == path.resolve()
        for line in listing.splitlines()
        if line.startswith("worktree ")
    )


def ensure_copy(checkout: Path, exercise: Exercise) -> tuple[Path, bool]:
    """The exercise's copy, made from HEAD if it does not exist yet; True when just made."""
    path = copy_path(checkout, exercise)
    if path.exists():
        if not _registered(checkout, path):
            raise CopyError(
                f"{path} is not a copy made by the workshop; "
                f"`make exercise-reset {exercise.number}` replaces it with a fresh one"
            )
        return path, False
    make_copy(checkout, exercise)
    return path, True


def make_copy(checkout: Path, exercise: Exercise) -> Path:
    path = copy_path(checkout, exercise)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A copy deleted by hand leaves its registration behind, which would refuse the path.
    git(checkout, "worktree", "prune")
    git(checkout, "worktree", "add", "--detach", str(path), "HEAD")
    if exercise.prepare is not None:
        exercise.prepare(path)
    return path


def remove_copy(checkout: Path, exercise: Exercise) -> None:
    """Remove the copy with whatever the learner changed in it; nothing else."""
    path = copy_path(checkout, exercise)
    if _registered(checkout, path):
        git(checkout, "worktree", "remove", "--force", str(path))
    if path.exists():
        # Left over from a copy git no longer knows; it lies under .state/workshop only.
        shutil.rmtree(path)
    git(checkout, "worktree", "prune")


def reset_copy(checkout: Path, exercise: Exercise) -> Path:
    remove_copy(checkout, exercise)
    return make_copy(checkout, exercise)
