"""The published file documents itself: comments, a data dictionary and value labels, readable in DuckDB 1.2."""

from __future__ import annotations

import html
import json
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest

from samskab.analysts.report import WORDS
from samskab.common.settings import Settings
from samskab.publish import snapshots
from samskab.publish.catalog import QUESTION_PREFIX, SYNTHETIC_NOTE
from tests.lakes import REPO

pytestmark = pytest.mark.end_to_end
ROOT = REPO
COMPAT_PYTHON = ROOT / ".venv-duckdb-1.2" / "bin" / "python"


@pytest.fixture(scope="module")
def published(refreshed_lake) -> Path:
    lake, _, _ = refreshed_lake
    return lake / "published" / "analytics.duckdb"


def test_duckdb_1_2_reads_a_mart_and_its_comments(published):
    assert COMPAT_PYTHON.exists(), "make test installs DuckDB 1.2 into .venv-duckdb-1.2 for this test"
    script = textwrap.dedent(
        """
        import duckdb, json, sys
        connection = duckdb.connect(sys.argv[1], read_only=True)
        print(json.dumps({
            "version": duckdb.__version__,
            "regions": connection.execute(
                "select count(distinct region_name) from municipality_profile").fetchall()[0][0],
            "table": connection.execute(
                "select comment from duckdb_tables() where table_name = 'municipality_profile'").fetchall()[0][0],
            "column": connection.execute(
                "select comment from duckdb_columns() where table_name = 'municipality_profile' "
                "and column_name = 'municipality_code'").fetchall()[0][0],
            "motives": connection.execute(
                "select comment from duckdb_tables() where table_name = 'motives'").fetchall()[0][0],
        }))
        """
    )
    result = subprocess.run(
        [str(COMPAT_PYTHON), "-c", script, str(published)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["version"] == "1.2.2" and read["regions"] == 5
    # The sample's file says what it is, first: its figures are made up.
    assert read["table"].startswith(SYNTHETIC_NOTE.strip() + " Every municipality described for the latest survey wave")
    assert read["column"].startswith("Statistics Denmark 3-digit municipality code")
    assert f"{QUESTION_PREFIX}Hvorfor samarbejder sektorområdet med civile aktører?" in read["motives"]


# Statistics Denmark, ARE207: Denmark's area on 1 January 2020, in km².
DENMARK_KM2 = 42_951


def test_the_samples_areas_add_up_to_denmark_and_its_densities_are_real_ones(published):
    """The sample's areas are drawn around each municipality's real area, so a density beside a real
    population is of the right size (the capital's thousands per km², the islands' tens)."""
    with duckdb.connect(str(published), read_only=True) as connection:
        total, n = connection.execute("select sum(area_km2), count(area_km2) from municipality_profile").fetchone()
        density = dict(
            connection.execute("select municipality_name, population_density from municipality_profile").fetchall()
        )
    assert n == 98 and abs(total - DENMARK_KM2) / DENMARK_KM2 < 0.02, total
    assert density["Frederiksberg"] > 10_000 and density["København"] > 5_000
    assert density["Læsø"] < 20 and 500 < density["Aarhus"] < 1_000


def test_every_published_table_and_column_has_a_comment_and_a_dictionary_row(published):
    with duckdb.connect(str(published), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name, comment from duckdb_tables() where schema_name in ('main', 'meta')"
        ).fetchall()
        columns = connection.execute(
            "select columns.schema_name, columns.table_name, columns.column_name, columns.comment "
            "from duckdb_columns() as columns join duckdb_tables() as tables "
            "using (database_name, schema_name, table_name) where schema_name in ('main', 'meta')"
        ).fetchall()
        dictionary = connection.execute(
            "select table_schema, table_name, column_name, description, question_da, codebook from meta.data_dictionary"
        ).fetchall()
    assert len(tables) >= 30 and len(columns) >= 500
    assert [table for table in tables if not table[2]] == []
    assert [column[:3] for column in columns if not column[3]] == []
    described = {(schema, table, column): description for schema, table, column, description, _, _ in dictionary}
    assert set(described) == {column[:3] for column in columns} | {(schema, table, None) for schema, table, _ in tables}
    # the comment is the dictionary's description, then the Danish question where there is one
    by_name = {
        (schema, table, column): (description, question)
        for schema, table, column, description, question, _ in dictionary
    }
    for schema, table, column, comment in columns:
        description, question = by_name[(schema, table, column)]
        assert comment.startswith(" ".join(description.split()))
        assert (QUESTION_PREFIX in comment) == bool(question)
    # Built from the embedded sample alone: every mart says so first, in its comment and its dictionary row.
    marts = [(table, comment) for schema, table, comment in tables if schema == "main"]
    assert len(marts) >= 20
    assert [table for table, comment in marts if not comment.startswith(SYNTHETIC_NOTE.strip())] == []
    assert all(described[("main", table, None)].startswith(SYNTHETIC_NOTE) for table, _ in marts)
    assert not any(comment.startswith("SYNTHETIC") for schema, _, comment in tables if schema == "meta")


def test_value_labels_cover_every_codebook_the_dictionary_names(published):
    with duckdb.connect(str(published), read_only=True) as connection:
        named = connection.execute(
            "select codebook, count(*) from meta.data_dictionary where codebook is not null group by all"
        ).fetchall()
        labels = dict(connection.execute("select codebook || ':' || value, label_da from meta.value_labels").fetchall())
        # every code a mart holds has its label
        unlabelled = connection.execute(
            """
            select distinct answer_category from survey_answers_labelled
            where answer_category is not null and answer_category not in (
                select value from meta.value_labels where codebook = 'answer_categories')
            """
        ).fetchall()
    assert {codebook for codebook, _ in named} == {
        "municipalities", "regions", "municipality_groups", "sector_areas", "answer_categories",
    }  # fmt: skip
    assert labels["answer_categories:dont_know"] == "Ved ikke"
    assert labels["municipalities:101"] == "København" and labels["regions:1084"] == "Region Hovedstaden"
    assert unlabelled == []


def test_the_refresh_kept_a_snapshot_and_drew_the_report_linked_from_its_summary(refreshed_lake):
    lake, _, report = refreshed_lake
    settings = Settings(data_lake=lake)
    kept = snapshots.for_run(settings, report.run_id)
    assert kept is not None and kept.path.read_bytes() == settings.published_path.read_bytes()
    assert "study report (charts)" in report.docs
    study_report = Path(report.docs["study report (charts)"])
    assert study_report == settings.docs_dir / "report.html"
    drawn = study_report.read_text(encoding="utf-8")
    assert f"kørsel {report.run_id}" in drawn  # Danish unless asked otherwise
    assert drawn.count(html.escape(WORDS["da"]["synthetic"])) == 2  # under the title, and below
