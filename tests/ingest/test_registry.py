"""The source registry is the one declaration of each source: its suites exist, dbt documents exactly the
raw columns it declares, and tables of free text are never a dbt source."""

from __future__ import annotations

import pytest
import yaml

from samskab.gate import suites as gate
from samskab.ingest.sources.registry import SOURCES, raw_only_tables, raw_tables
from tests.lakes import REPO

DBT_MODELS = REPO / "dbt_project" / "models"
LINEAGE_COLUMNS = ["source_file", "source_row"]


def dbt_raw_sources() -> dict[str, list[str]]:
    """Every table dbt declares in the raw schema, with the columns it documents."""
    tables = {}
    for path in DBT_MODELS.rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            if source.get("schema") == "raw":
                for table in source["tables"]:
                    tables[table["name"]] = [column["name"] for column in table.get("columns", [])]
    return tables


@pytest.mark.parametrize("source", SOURCES, ids=[source.name for source in SOURCES])
def test_each_source_names_suites_that_exist_and_guard_its_own_tables(source):
    own = {f"raw.{table.name}" for table in source.tables}
    assert source.suites
    for suite in source.suites:
        assert gate.load_suite_document(suite)["meta"]["stage"] == "raw"
        assert gate.suite_table(suite) in own, suite


def test_every_raw_suite_belongs_to_a_source():
    declared = {suite for source in SOURCES for suite in source.suites}
    assert set(gate.suite_names("raw")) == declared


def test_dbt_documents_exactly_the_columns_the_registry_declares():
    documented = dbt_raw_sources()
    for table in raw_tables():
        if table.raw_only:
            continue
        assert documented.get(table.name) == [*table.column_names, *LINEAGE_COLUMNS], table.name


def test_tables_of_free_text_are_never_a_dbt_source():
    assert raw_only_tables() == {"survey_open_answers", "survey_unresolved_municipalities"}
    assert not raw_only_tables() & set(dbt_raw_sources())


def test_table_names_are_unique_across_sources():
    names = [table.name for table in raw_tables()]
    assert len(names) == len(set(names))
