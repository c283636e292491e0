"""A refresh costs what changed, and publishes what a whole one would: a corrected case register delivered
to the refreshed sample is built by a partial refresh (the case marts and their tests only), and a forced
full refresh of a copy of that lake, with the same inputs, publishes the same file, every table row for
row; only the record of the run differs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.lakes import copy_lake, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

KEY = "a-test-key-that-is-not-in-any-log-0123456789"
# The record of the run: its id and times, what it did with each landing file (the forced run found the
# corrected register loaded already) and how each check ran (the partial run kept most dbt tests' results).
RUN_RECORD = {("meta", "runs"), ("meta", "quality_checks"), ("meta", "landing_files")}


def _correct_case_register(register: Path) -> None:
    """A researcher's correction: an interview's duration, and one more spot interview of case C2."""
    from openpyxl import load_workbook

    workbook = load_workbook(register)
    sheet = workbook["Aktiviteter"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=header.index("varighed_min") + 1, value=95)
    template = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[1] == "C2")
    added = list(template)
    added[0] = "A0999"
    sheet.append(added)
    workbook.save(register)


@pytest.fixture(scope="module")
def refreshed_twice(refreshed_lake, tmp_path_factory):
    """(partial lake, its report, forced lake): the correction refreshed as the night would, then a copy of
    that lake refreshed with --force."""
    from flows.nightly_refresh import nightly_refresh

    partial = copy_lake(refreshed_lake[0], tmp_path_factory.mktemp("partial"))
    _correct_case_register(partial / "landing" / "cases" / "case_register.xlsx")
    with using_lake(partial), using_setting("SAMSKAB_PSEUDONYM_KEY", KEY):
        report = nightly_refresh()
    forced = copy_lake(partial, tmp_path_factory.mktemp("forced"))
    with using_lake(forced), using_setting("SAMSKAB_PSEUDONYM_KEY", KEY):
        nightly_refresh(force=True)
    return partial, report, forced


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    return set(
        connection.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [catalog]
        ).fetchall()
    )


def _build(lake: Path) -> tuple:
    with duckdb.connect(str(lake / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute("select kind from build_state.builds").fetchone()


def test_a_corrected_case_register_rebuilds_the_case_marts_only(refreshed_twice, refreshed_lake):
    partial, report, _ = refreshed_twice
    assert _build(partial) == ("partial",)
    assert "of what changed" in report.verdict and "more of unchanged models passed when last run" in report.verdict
    published = partial / "published" / "analytics.duckdb"
    first_run = refreshed_lake[2].run_id
    with duckdb.connect(str(published), read_only=True) as connection:
        assert connection.execute("select count(*) from case_activities where activity_id = 'A0999'").fetchone() == (1,)
        kept = connection.execute(
            "select count(*), count(*) filter (where observed like ?) from meta.quality_checks "
            "where stage = 'dbt' and observed like '%not run again%'",
            [f"pass%in run {first_run} (%"],
        ).fetchone()
        n_dbt = connection.execute("select count(*) from meta.quality_checks where stage = 'dbt'").fetchone()[0]
    # Every test of the project is in the file's record: those of the case marts run again, every other
    # with the result of the first run, which ran it on the same data.
    assert kept[0] == kept[1] and 0 < kept[0] < n_dbt
    assert n_dbt == _dbt_tests(refreshed_lake[0])


def _dbt_tests(lake: Path) -> int:
    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
        return connection.execute("select count(*) from meta.quality_checks where stage = 'dbt'").fetchone()[0]


def test_a_partial_refresh_publishes_the_file_a_forced_full_one_does(refreshed_twice):
    partial, report, forced = refreshed_twice
    assert _build(forced) == ("full",)
    with duckdb.connect() as connection:
        connection.execute(f"attach '{partial / 'published' / 'analytics.duckdb'}' as partial (read_only)")
        connection.execute(f"attach '{forced / 'published' / 'analytics.duckdb'}' as forced (read_only)")
        tables = _tables(connection, "partial")
        assert tables == _tables(connection, "forced")
        compared = sorted(tables - RUN_RECORD)
        assert {("main", mart) for mart in report.row_counts} <= set(compared)  # every mart, and meta's tables
        for schema, table in compared:
            for one, other in (("partial", "forced"), ("forced", "partial")):
                differing = connection.execute(
                    f'select count(*) from (select * from {one}."{schema}"."{table}" '
                    f'except all select * from {other}."{schema}"."{table}")'
                ).fetchone()[0]
                assert differing == 0, f"{schema}.{table}: {differing} rows of the {one} file not in the {other}"
