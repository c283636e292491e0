"""Publish: the candidate file documents itself before it is swapped in.

Every published table and column gets a DuckDB comment (`COMMENT ON`), and the file's `meta` schema a
data dictionary and the codebooks' value labels, so an analyst who opens the file in any DuckDB client
(1.2 and newer), R or Python reads what each column means without the repository at hand:

- marts (schema main): dbt's descriptions of this run's build (its manifest.json), with the Danish
  question text of the survey questions a mart holds (seed study_concepts), and the codebook a coded
  column's values belong to (the column's `meta: codebook:` in the marts' YAML);
- meta tables: the descriptions in samskab/publish/meta_descriptions.py;
- meta.value_labels: the dbt model codebook_value_labels (value labels of every codebook).

Descriptions describe columns; they never quote a cell of the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from samskab.common.settings import Settings
from samskab.publish.meta_descriptions import META_TABLES

DICTIONARY_COLUMNS = (
    "table_schema",
    "table_name",
    "column_name",
    "ordinal_position",
    "data_type",
    "description",
    "question_da",
    "codebook",
)
CODEBOOK_TABLE = "codebook.codebook_value_labels"
QUESTION_PREFIX = "Spørgsmål: "


@dataclass
class Documented:
    """What the candidate's documentation holds; `undocumented` names tables and columns without a description."""

    n_tables: int = 0
    n_columns: int = 0
    undocumented: list[str] = field(default_factory=list)
    unknown_codebooks: list[str] = field(default_factory=list)


def _manifest_models(settings: Settings) -> dict[str, dict]:
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("config", {}).get("schema") == "marts"
    }


def _questions(warehouse: duckdb.DuckDBPyConnection) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The Danish question texts by mart (in concept order) and by concept, from the study's codebook."""
    by_mart: dict[str, list[str]] = {}
    by_concept: dict[str, str] = {}
    rows = warehouse.execute(
        "select concept, mart, question_da from warehouse.reference.study_concepts "
        "where question_da is not null order by mart, concept"
    ).fetchall()
    for concept, mart, question in rows:
        by_concept[concept] = question
        if mart and question not in by_mart.setdefault(mart, []):
            by_mart[mart].append(question)
    return by_mart, by_concept


def comment_text(description: str | None, question_da: str | None) -> str:
    """The comment DuckDB shows: the English description, then the Danish question text where one exists."""
    parts = [" ".join((description or "").split())]
    if question_da:
        parts.append(QUESTION_PREFIX + question_da)
    return " ".join(part for part in parts if part)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dictionary_rows(
    connection: duckdb.DuckDBPyConnection, models: dict[str, dict], questions: tuple[dict, dict]
) -> list[tuple]:
    """One row per published table (column_name null) and per column, in the file's own column order."""
    by_mart, by_concept = questions
    columns = connection.execute(
        "select table_schema, table_name, column_name, ordinal_position, data_type "
        "from information_schema.columns where table_catalog = 'candidate' "
        "and table_schema in ('main', 'meta') order by table_schema, table_name, ordinal_position"
    ).fetchall()
    rows, seen_tables = [], set()
    for schema, table, column, position, data_type in columns:
        if schema == "main":
            node = models.get(table, {})
            table_description = node.get("description")
            column_doc = node.get("columns", {}).get(column, {})
            column_description = column_doc.get("description")
            column_meta = column_doc.get("meta") or column_doc.get("config", {}).get("meta") or {}
            table_question = "; ".join(by_mart.get(table, [])) or None
            column_question = by_concept.get(column_meta.get("concept", ""))
            codebook = column_meta.get("codebook")
        else:
            table_description, column_descriptions = META_TABLES.get(table, (None, {}))
            column_description = column_descriptions.get(column)
            table_question = column_question = codebook = None
        if (schema, table) not in seen_tables:
            seen_tables.add((schema, table))
            rows.append((schema, table, None, 0, None, table_description or None, table_question, None))
        rows.append((schema, table, column, position, data_type, column_description or None, column_question, codebook))
    return rows


# The first words of every published table's comment and description when the file was built from the
# embedded sample alone (`samskab sample`): its survey, cases and Statbank answers are made up.
SYNTHETIC_NOTE = "SYNTHETIC: built from the embedded sample, made-up data for trying the platform. "


def is_synthetic(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether an open published file says it was built from the embedded sample alone."""
    row = connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'main' and starts_with(comment, ?)",
        [SYNTHETIC_NOTE.strip()],
    ).fetchone()
    return bool(row and row[0])


def document(settings: Settings, candidate: Path, synthetic: bool = False) -> Documented:
    """Write meta.data_dictionary, meta.value_labels and every comment into the candidate, and checkpoint it.
    `synthetic`: the file was built from the embedded sample alone; every mart's description then opens
    with SYNTHETIC_NOTE."""
    models = _manifest_models(settings)
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{candidate}' as candidate")
        connection.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        connection.execute("use candidate")
        connection.execute("create schema if not exists meta")
        connection.execute(
            f"create or replace table meta.value_labels as select * from warehouse.{CODEBOOK_TABLE} "
            "order by codebook, sort_order"
        )
        # The dictionary describes itself: create it empty first, so its own columns are listed too.
        connection.execute(
            "create or replace table meta.data_dictionary (table_schema varchar, table_name varchar, "
            "column_name varchar, ordinal_position integer, data_type varchar, description varchar, "
            "question_da varchar, codebook varchar)"
        )
        rows = dictionary_rows(connection, models, _questions(connection))
        if synthetic:
            rows = [
                (*row[:5], SYNTHETIC_NOTE + (row[5] or ""), *row[6:]) if row[0] == "main" and row[2] is None else row
                for row in rows
            ]
        # One transaction for the rows and every comment: each statement on its own commits (and syncs) once.
        connection.execute("begin transaction")
        connection.register("dictionary_rows", pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS)))
        connection.execute("insert into meta.data_dictionary select * from dictionary_rows")
        connection.unregister("dictionary_rows")
        known = {row[0] for row in connection.execute("select distinct codebook from meta.value_labels").fetchall()}
        outcome = Documented()
        for schema, table, column, _, _, description, question, codebook in rows:
            name = f'{schema}."{table}"' + (f'."{column}"' if column else "")
            label = f"{schema}.{table}" + (f".{column}" if column else "")
            if column is None:
                outcome.n_tables += 1
            else:
                outcome.n_columns += 1
            if not description:
                outcome.undocumented.append(label)
                continue
            kind = "column" if column else "table"
            connection.execute(f"comment on {kind} {name} is {_quoted(comment_text(description, question))}")
            if codebook and codebook not in known:
                outcome.unknown_codebooks.append(f"{label} names codebook '{codebook}'")
        connection.execute("commit")
        connection.execute("checkpoint candidate")
    finally:
        connection.close()
    return outcome
