"""Text edits anchored on what a file already holds, applied in memory.

Each edit finds its anchor exactly once or fails with `AnchorNotFound`, naming the
file and the anchor: a repository that has moved on stops the scaffold before it
writes anything, instead of getting a line in the wrong place. Python is edited by
its syntax tree (`AddToLiteral`), so the edit holds however the formatter laid the
code out; YAML and shell by their lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class AnchorNotFound(Exception):
    """An edit's anchor is missing from its file, or is there more than once."""


@dataclass(frozen=True)
class InsertLines:
    """`text` (whole lines) after, or `before`, the one place the lines `anchor` stand."""

    path: str
    anchor: str  # one or more whole lines, exactly as written, indentation included
    text: str
    why: str
    before: bool = False


@dataclass(frozen=True)
class InsertInLine:
    """`text` right after the last `after` in the one line that contains `line`: after
    the entries added there before, so that they keep the order they were added in."""

    path: str
    line: str
    after: str
    text: str
    why: str


@dataclass(frozen=True)
class Append:
    """`text` at the end of the file: a YAML document after the last one."""

    path: str
    text: str
    why: str


@dataclass(frozen=True)
class AddToLiteral:
    """`text` right after `element` of the one tuple, list or set literal (after the value
    of the key `element`, in a dict) that holds it within `scope`: the statements that
    assign the module-level name `scope`, or the function `scope`."""

    path: str
    scope: str
    element: Any  # a Python literal, compared by value: "orders", ("orders", "users", 8000)
    text: str  # `, "inventory"`: the formatter then lays the literal out
    why: str


Edit = InsertLines | InsertInLine | Append | AddToLiteral


def apply(edit: Edit, content: str) -> str:
    if isinstance(edit, Append) and content and not content.endswith("\n"):
        content += "\n"  # the last line stays whole
    at = insertion_point(edit, content)
    return content[:at] + edit.text + content[at:]


def insertion_point(edit: Edit, content: str) -> int:
    """Where in `content` the edit's text goes; AnchorNotFound when it cannot say."""
    if isinstance(edit, Append):
        return len(content)
    if isinstance(edit, AddToLiteral):
        return _after_element(edit, content)
    lines = content.splitlines(keepends=True)
    if isinstance(edit, InsertInLine):
        [index] = _only(
            edit.path, repr(edit.line), [i for i, line in enumerate(lines) if edit.line in line]
        )
        if edit.after not in lines[index]:
            raise AnchorNotFound(f"{edit.path}: {edit.after!r} is not in the line {edit.line!r}")
        return _start_of(lines, index) + lines[index].rindex(edit.after) + len(edit.after)
    anchor = edit.anchor.splitlines()
    bare = [line.rstrip("\r\n") for line in lines]
    starts = [i for i in range(len(bare)) if bare[i : i + len(anchor)] == anchor]
    [index] = _only(edit.path, repr(anchor[0]), starts)
    return _start_of(lines, index if edit.before else index + len(anchor))


def _after_element(edit: AddToLiteral, content: str) -> int:
    tree = ast.parse(content)
    found = [
        end
        for scope in _scopes(tree, edit.scope)
        for node in ast.walk(scope)
        if (end := _end_of(node, edit.element)) is not None
    ]
    [end] = _only(edit.path, f"{edit.element!r} in {edit.scope}", found)
    lines = content.splitlines(keepends=True)
    row = (end.end_lineno or end.lineno) - 1
    # The syntax tree counts columns in UTF-8 bytes.
    return _start_of(lines, row) + len(lines[row].encode()[: end.end_col_offset].decode())


def _start_of(lines: list[str], index: int) -> int:
    return sum(len(line) for line in lines[:index])


def _scopes(tree: ast.Module, name: str) -> list[ast.AST]:
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    assignments = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == name
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    return [*functions, *assignments]


def _end_of(node: ast.AST, element: Any) -> ast.expr | None:
    """What the text goes after, when `node` is a literal holding `element`: the element
    itself, or the value of the dict key `element`."""
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return next((value for key, value in pairs if key and _value(key) == element), None)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return next((item for item in node.elts if _value(item) == element), None)
    return None


def _value(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError):
        return None  # a name or a call: never the element looked for


def _only(path: str, anchor: str, found: list[T]) -> list[T]:
    if len(found) != 1:
        where = "not found" if not found else f"found {len(found)} times"
        raise AnchorNotFound(f"{path}: {anchor} {where}")
    return found
