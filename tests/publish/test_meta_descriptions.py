"""The descriptions of the published file's `meta` tables are well formed (nothing is built or read)."""

from __future__ import annotations

import ast
import inspect
import re

from samskab.publish import meta_descriptions
from samskab.publish.meta_descriptions import META_TABLES

NAME = re.compile(r"[a-z][a-z0-9_]*")
# Tables written into `meta` (samskab/publish/lineage.py) and the data dictionary with its value labels.
EXPECTED_TABLES = {
    "runs",
    "input_files",
    "landing_files",
    "quality_checks",
    "row_counts",
    "survey_exports",
    "delivery_notes",
    "rejected_rows",
    "withdrawn_files",
    "data_dictionary",
    "value_labels",
}


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value == value.strip()


def test_every_meta_table_is_described():
    assert isinstance(META_TABLES, dict)
    assert set(META_TABLES) >= EXPECTED_TABLES


def test_tables_and_columns_have_names_and_descriptions():
    for table, entry in META_TABLES.items():
        assert NAME.fullmatch(table), table
        assert isinstance(entry, tuple) and len(entry) == 2, table
        description, columns = entry
        assert _is_text(description), table
        assert isinstance(columns, dict) and columns, table
        for column, text in columns.items():
            assert isinstance(column, str) and NAME.fullmatch(column), (table, column)
            assert _is_text(text), (table, column)
            assert text.endswith("."), (table, column)


def test_no_table_or_column_is_written_twice():
    """A repeated key in a dict literal silently replaces the first: look for one in the source."""
    tree = ast.parse(inspect.getsource(meta_descriptions))
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "META_TABLES"
    ]
    assert len(literals) == 1 and isinstance(literals[0], ast.Dict)
    tables = literals[0]
    table_names = [ast.literal_eval(key) for key in tables.keys]
    assert len(table_names) == len(set(table_names)), table_names
    for table, value in zip(table_names, tables.values, strict=True):
        assert isinstance(value, ast.Tuple) and len(value.elts) == 2, table
        columns = value.elts[1]
        assert isinstance(columns, ast.Dict), table
        names = [ast.literal_eval(key) for key in columns.keys]
        assert len(names) == len(set(names)), (table, names)
        assert names == list(META_TABLES[table][1]), table
