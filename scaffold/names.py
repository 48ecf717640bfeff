"""Which names a new service may take: why a name is refused, or None when it may."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import keyword
import re
import sys
from pathlib import Path

from scaffold.repository import stack_prefixes, taken_names

# Single underscores between words: the name is also a Kubernetes name once each
# underscore is a hyphen, and a DNS label can neither end with one nor hold two in a row.
NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# It names a PostgreSQL role, database and tables and Kubernetes objects (63 at most,
# with suffixes such as `_schema_version`), and the generated lines no formatter can
# break (a database URL in devstack/topology.py) stay within 100 columns.
MAX_LENGTH = 30
# Variables every process reads besides its own settings: a service prefix that
# starts them, or that they start, would make a process read another's variable.
SHARED_PREFIXES = {
    "OTEL_": "OpenTelemetry's variables",
    "FRONTDOOR_": "the stack's own variables (FRONTDOOR_STATE_DIR, ...)",
    "DEVSTACK_": "the dev stack's variables",
}


def refusal(name: str, root: Path) -> str | None:
    """Why `name` cannot be a new service in the repository at `root`, in one line."""
    if not NAME.fullmatch(name):
        return (
            "it is not a lowercase Python identifier (letters a-z and digits, starting "
            "with a letter, words joined by single underscores, as in stock_levels)"
        )
    if len(name) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "it is a Python keyword"
    taken = taken_names(root)
    if name in taken:
        return f"it is taken: {taken[name]}"
    prefix = f"{name.upper()}_"
    owners = {p: f"the {n} process's settings" for n, p in stack_prefixes(root).items()}
    for other, owner in {**owners, **SHARED_PREFIXES}.items():
        if prefix.startswith(other) or other.startswith(prefix):
            return f"its settings prefix {prefix} clashes with {other} ({owner})"
    if name in sys.stdlib_module_names:
        return f"it would shadow the standard library module {name}"
    if distributions := importlib.metadata.packages_distributions().get(name):
        return f"it would shadow the module {name} of {', '.join(distributions)}"
    if importlib.util.find_spec(name) is not None:
        return f"it would shadow the importable module {name}"
    return None
