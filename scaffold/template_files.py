"""The new service's own files, rendered from `template/`, which mirrors the repository:
placeholders in a path name the new service too (`services/$name/app.py.tmpl`). A
`.tmpl` file is filled in; any other is copied as it is (Alembic's `script.py.mako`,
whose own `${...}` are Mako's)."""

from __future__ import annotations

import re
import string
from pathlib import Path

from scaffold.service import NewService

TEMPLATE = Path(__file__).parent / "template"
SUFFIX = ".tmpl"


class Placeholders(string.Template):
    """Only the scaffold's own placeholders are replaced: `${FRONTDOOR_OTLP_ENDPOINT:-}` in
    a compose file or `$(openssl ...)` in a comment stay as written, without escapes."""

    idpattern = r"name|NAME|k8s_name|port|test_password"
    flags = re.NOFLAG  # `$name` and `$NAME` are different placeholders


def fill(text: str, service: NewService) -> str:
    # safe_substitute: a `$` that starts none of the placeholders is text, not an error.
    return Placeholders(text).safe_substitute(service.placeholders())


def render_files(service: NewService) -> dict[Path, str]:
    """Every new file: its path in the repository and its text."""
    files: dict[Path, str] = {}
    for source in sorted(path for path in TEMPLATE.rglob("*") if path.is_file()):
        target = Path(fill(source.relative_to(TEMPLATE).as_posix(), service))
        text = source.read_text()
        if target.name.endswith(SUFFIX):
            target = target.with_name(target.name.removesuffix(SUFFIX))
            text = fill(text, service)
        files[target] = text
    return files
