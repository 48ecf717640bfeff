"""The whole change as a plan: every file created or changed, worked out in memory
before any is written, so that a refusal leaves the repository as it was."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.edits import AnchorNotFound, Edit, apply, insertion_point
from scaffold.repository import services_added_after
from scaffold.service import NewService
from scaffold.template_files import fill, render_files
from scaffold.wiring import ANCHOR_SERVICE, anchored_on_others, edits


class PlanError(Exception):
    """The repository is not as the scaffold expects it; nothing has been written."""


@dataclass
class Plan:
    created: dict[Path, str]
    changed: dict[Path, str] = field(default_factory=dict)
    # What each changed file gains, for the report.
    reasons: dict[Path, list[str]] = field(default_factory=dict)

    @property
    def python_files(self) -> list[Path]:
        return sorted(path for path in [*self.created, *self.changed] if path.suffix == ".py")


def make_plan(root: Path, service: NewService) -> Plan:
    plan = Plan(created=render_files(service))
    for path in plan.created:
        if (root / path).exists():
            raise PlanError(f"{path} exists already")
    others = services_added_after(root, ANCHOR_SERVICE)
    for edit in edits(service):
        path = Path(edit.path)
        if path not in plan.changed:
            try:
                plan.changed[path] = (root / path).read_text()
            except FileNotFoundError:
                raise PlanError(f"{path} is missing: the scaffold edits it") from None
        chosen = _last_that_fits(anchored_on_others(edit, others), plan.changed[path])
        plan.changed[path] = apply(_filled(chosen, service), plan.changed[path])
        plan.reasons.setdefault(path, []).append(fill(edit.why, service))
    return plan


def write_plan(root: Path, plan: Plan) -> None:
    for path, text in [*plan.created.items(), *plan.changed.items()]:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _last_that_fits(variants: list[Edit], content: str) -> Edit:
    """Of one edit's variants, the one whose text lands furthest into the file."""
    found: list[tuple[int, Edit]] = []
    missing: list[AnchorNotFound] = []
    for variant in variants:
        try:
            found.append((insertion_point(variant, content), variant))
        except AnchorNotFound as exc:
            missing.append(exc)
    if not found:
        raise PlanError(f"{missing[0]}; the scaffold inserts there")
    return max(found, key=lambda point: point[0])[1]


def _filled(edit: Edit, service: NewService) -> Edit:
    # Only the inserted text holds placeholders; anchors are the file's text as it is.
    return dataclasses.replace(edit, text=fill(edit.text, service))
