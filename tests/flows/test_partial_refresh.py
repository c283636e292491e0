"""A refresh costs what changed, and publishes what a whole one would: a corrected case register delivered
to the refreshed sample is built by a partial refresh (the case marts and their tests only), and a forced
full refresh of a copy of that lake, with the same inputs, publishes the same file, every table row for
row; only the record of the run differs. The forced refresh is also the one `--force` is proved by
(nothing read again, no drift), and a rollback after it holds until the inputs change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.lakes import STUDY_KEY, copy_lake, last_flow_run, told, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

KEY = STUDY_KEY  # the refreshed sample's own
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


@dataclass(frozen=True)
class ForcedRun:
    """`samskab refresh --force` on a copy of the partial lake: its exit code, what it printed and logged,
    and the published file and the ingest ledger's count and last load time from before it."""

    exit_code: int
    printed: str
    logged: str
    published_before: bytes
    ledger_before: tuple


LEDGER_SQL = "select count(*), max(loaded_at) from raw.ingest_ledger"


def _read_one(path: Path, sql: str) -> tuple:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchone()


@pytest.fixture(scope="module")
def refreshed_twice(refreshed_lake, tmp_path_factory):
    """(partial lake, its report, forced lake, the forced run): the correction refreshed as the night would,
    then a copy of that lake refreshed with `samskab refresh --force`."""
    from flows.nightly_refresh import nightly_refresh
    from samskab.cli import main

    partial = copy_lake(refreshed_lake[0], tmp_path_factory.mktemp("partial"))
    _correct_case_register(partial / "landing" / "cases" / "case_register.xlsx")
    with using_lake(partial), using_setting("SAMSKAB_PSEUDONYM_KEY", KEY):
        report = nightly_refresh()
    forced = copy_lake(partial, tmp_path_factory.mktemp("forced"))
    published_before = (forced / "published" / "analytics.duckdb").read_bytes()
    ledger_before = _read_one(forced / "warehouse" / "warehouse.duckdb", LEDGER_SQL)
    with using_lake(forced), using_setting("SAMSKAB_PSEUDONYM_KEY", KEY), told() as (out, lines):
        exit_code = main(["refresh", "--force"])
    return partial, report, forced, ForcedRun(exit_code, out.getvalue(), lines.text, published_before, ledger_before)


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
    partial, report, _, _ = refreshed_twice
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
    # The register is the one delivery read, and the one ingest task in Prefect; the others were unchanged.
    read = [load.delivery for load in report.loads if load.state != "unchanged"]
    assert len(read) == 1 and read[0].startswith("cases/") and len(report.loads) > 5
    assert [name for name in _task_names(partial) if name.startswith("ingest ")] == [f"ingest {read[0]}"]


def _task_names(lake: Path) -> list[str]:
    """The names of the task runs of the lake's latest refresh."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    of_the_run = FlowRunFilter(id=FlowRunFilterId(any_=[last_flow_run(lake).id]))
    with get_client(sync_client=True) as client:
        return [run.name for run in client.read_task_runs(flow_run_filter=of_the_run)]


def _dbt_tests(lake: Path) -> int:
    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
        return connection.execute("select count(*) from meta.quality_checks where stage = 'dbt'").fetchone()[0]


def test_a_partial_refresh_publishes_the_file_a_forced_full_one_does(refreshed_twice):
    partial, report, forced, run = refreshed_twice
    assert run.exit_code == 0
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


def test_a_forced_refresh_loads_nothing_again_and_a_rollback_holds_until_the_inputs_change(
    refreshed_twice, tmp_path, capsys, caplog, monkeypatch
):
    """`--force` runs every stage on unchanged inputs: ingest reads nothing again (same sha256), drift finds
    nothing moved. Rollback then publishes the previous snapshot, and a refresh with the same inputs keeps
    it (it used to publish the rolled-away data again and overwrite the snapshot); a new file in the
    landing zone ends the hold, saying so."""
    from samskab.cli import EXIT_NEEDS_ATTENTION, describe_status, main

    _, _, forced, run = refreshed_twice
    assert run.exit_code == 0
    assert run.printed.count("unchanged since it was loaded (same sha256)") == 7  # 2 exports, 4 Statbank, cases
    assert "passed its quality gate and was published" in run.printed and "select region_name" in run.printed
    assert "Forced (--force): every stage runs" in run.logged
    assert _read_one(forced / "warehouse" / "warehouse.duckdb", LEDGER_SQL) == run.ledger_before
    published = forced / "published" / "analytics.duckdb"
    with duckdb.connect(str(published), read_only=True) as connection:
        drift = connection.execute(
            "select suite, table_name, success, observed from meta.quality_checks where stage = 'drift'"
        ).fetchall()
    assert {row[0] for row in drift} == {"drift_row_counts", "drift_shares"}
    assert all(row[2] and row[3].startswith("0 of ") for row in drift)  # the same inputs: nothing moved

    # The rollback on a copy: the other tests read the forced lake as its refresh left it.
    monkeypatch.setenv("SAMSKAB_PSEUDONYM_KEY", KEY)
    lake = copy_lake(forced, tmp_path)
    published = lake / "published" / "analytics.duckdb"
    previous = lake / "published" / "analytics.previous.duckdb"
    first, second = run.published_before, published.read_bytes()
    assert second != first and previous.read_bytes() == first
    with using_lake(lake) as settings:
        capsys.readouterr()
        # The previous file is older than the published one: the rollback names both and waits for --yes.
        assert main(["rollback"]) == 2
        asked = capsys.readouterr().out
        assert "The rollback publishes the file of run " in asked and "hours old), in place of the file of run" in asked
        assert "Nothing was changed; to roll back, run `samskab rollback --yes`." in asked
        assert published.read_bytes() == second and previous.read_bytes() == first
        assert main(["rollback", "--yes"]) == 0
        assert published.read_bytes() == first and previous.read_bytes() == second
        capsys.readouterr()
        assert main(["refresh"]) == 0
        out = capsys.readouterr().out
        assert "was rolled back at" in out and "it stays published" in out
        assert published.read_bytes() == first and previous.read_bytes() == second
        text, _ = describe_status(settings)
        assert "Last refresh:" in text and ": held." in text and "keeps it published until" in text

        (settings.landing_dir / "a note.txt").write_text("a new file in the landing zone", encoding="utf-8")
        assert main(["refresh"]) == EXIT_NEEDS_ATTENTION  # it runs, and names the unrecognised file
        assert "This publish ends the rollback of" in caplog.text
        assert previous.read_bytes() == first  # the file rolled back to is the previous snapshot now
        assert not settings.rollback_hold_path.exists()
