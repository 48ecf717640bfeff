"""Edits anchored on a file's text: each lands where its anchor is, or refuses."""

from __future__ import annotations

import pytest

from scaffold.edits import AddToLiteral, AnchorNotFound, Append, InsertInLine, InsertLines, apply

YAML = """\
resources:
  - users.yaml
  - orders.yaml
volumes:
  orders-data:
"""


def test_lines_go_after_the_anchor() -> None:
    edit = InsertLines("k.yaml", "  - orders.yaml", "  - stock.yaml\n", "why")

    assert apply(edit, YAML).splitlines()[1:4] == [
        "  - users.yaml",
        "  - orders.yaml",
        "  - stock.yaml",
    ]


def test_lines_go_before_a_multiline_anchor() -> None:
    edit = InsertLines("k.yaml", "volumes:\n  orders-data:", "# here\n", "why", before=True)

    assert apply(edit, YAML).splitlines()[3:5] == ["# here", "volumes:"]


def test_an_anchor_matches_whole_lines_only() -> None:
    # `orders-data:` stands in the file, but not as a line of its own.
    edit = InsertLines("k.yaml", "orders-data:", "x\n", "why")

    with pytest.raises(AnchorNotFound, match=r"^k\.yaml: 'orders-data:' not found$"):
        apply(edit, YAML)


def test_an_anchor_found_twice_is_refused() -> None:
    edit = InsertLines("k.yaml", "a", "x\n", "why")

    with pytest.raises(AnchorNotFound, match="found 2 times"):
        apply(edit, "a\nb\na\n")


def test_text_goes_after_the_last_token_of_its_line() -> None:
    edit = InsertInLine("init.sh", "for service in ", " orders", " stock", "why")
    content = "# orders\nfor service in users orders inventory; do\n"

    assert apply(edit, content) == "# orders\nfor service in users orders stock inventory; do\n"
    with pytest.raises(AnchorNotFound, match="is not in the line"):
        apply(InsertInLine("init.sh", "for service in ", " carts", " x", "why"), content)


def test_append_keeps_the_last_line_whole() -> None:
    assert apply(Append("s.yaml", "---\nb: 2\n", "why"), "a: 1") == "a: 1\n---\nb: 2\n"


def test_an_element_joins_a_literal_however_it_is_laid_out() -> None:
    one_line = 'NAMES = ("users", "orders")\n'
    exploded = 'NAMES = (\n    "users",\n    "orders",\n)\n'
    edit = AddToLiteral("t.py", "NAMES", "orders", ', "stock"', "why")

    assert apply(edit, one_line) == 'NAMES = ("users", "orders", "stock")\n'
    assert apply(edit, exploded) == 'NAMES = (\n    "users",\n    "orders", "stock",\n)\n'


def test_a_dict_gains_an_entry_after_its_keys_value() -> None:
    content = 'PORTS = {"users": 8201, "orders": {"port": 8202}}\nOTHER = {"orders": 1}\n'
    edit = AddToLiteral("t.py", "PORTS", "orders", ', "stock": 8203', "why")

    assert apply(edit, content).splitlines()[0] == (
        'PORTS = {"users": 8201, "orders": {"port": 8202}, "stock": 8203}'
    )


def test_an_element_is_found_by_value_in_a_function_or_its_decorators() -> None:
    content = (
        '@mark("service", ["users", "orders"])\n'
        "def test_x(service: str) -> None:\n"
        '    calls = {("carts", "pg", 5432)}\n'
    )

    decorated = apply(AddToLiteral("t.py", "test_x", "orders", ', "é"', "why"), content)
    called = apply(
        AddToLiteral("t.py", "test_x", ("carts", "pg", 5432), ', ("é", "pg", 5432)', "why"),
        decorated,
    )

    assert called.splitlines()[0] == '@mark("service", ["users", "orders", "é"])'
    # Columns after a non-ASCII character still count right.
    assert called.splitlines()[2] == '    calls = {("carts", "pg", 5432), ("é", "pg", 5432)}'


def test_an_augmented_assignment_is_part_of_the_names_scope() -> None:
    content = 'PREFIXES = {"edge": "EDGE_"}\nPREFIXES |= {"orders": "ORDERS_"}\n'
    edit = AddToLiteral("t.py", "PREFIXES", "orders", ', "stock": "STOCK_"', "why")

    assert apply(edit, content).splitlines()[1] == (
        'PREFIXES |= {"orders": "ORDERS_", "stock": "STOCK_"}'
    )


def test_an_element_outside_the_scope_is_not_found() -> None:
    edit = AddToLiteral("t.py", "NAMES", "orders", ', "stock"', "why")

    with pytest.raises(AnchorNotFound, match=r"^t\.py: 'orders' in NAMES not found$"):
        apply(edit, 'NAMES = ("users",)\nOTHER = ("orders",)\n')
