"""The nightly refresh's gate end to end: a fault in a real delivery stops the run or is rejected, and is
never published silently."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tests.lakes import FOLK1A_ANSWER, copy_lake, using_lake, using_setting
from tests.test_nightly_refresh import published_tables

pytestmark = pytest.mark.end_to_end

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


# --- the gate: nothing unvalidated reaches analysts -----------------------------------------------


@pytest.fixture()
def research_key(monkeypatch):
    """Edited deliveries are no longer the embedded sample, so they need a real pseudonym key."""
    monkeypatch.setenv("SAMSKAB_PSEUDONYM_KEY", "a-test-key-that-is-not-in-any-log-0123456789")


def rewrite_dataset(export: Path, change) -> None:
    """Edit a SurveyXact dataset the way a broken export would look, keeping its encoding."""
    path = export / "dataset.csv"
    lines = path.read_bytes().decode("utf-16").split("\n")
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line]
    rows = change(header, rows)
    text = "\n".join(["\t".join(header), *("\t".join(row) for row in rows)]) + "\n"
    path.write_bytes("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"))


def unknown_sector_area(header, rows):
    rows[5][header.index("sektor")] = "99"
    return rows


def test_poisoned_survey_fails_gate_and_leaves_published_file_byte_identical(refreshed_lake, tmp_path, research_key):
    """A sector area the reference seed does not know reaches raw (the reader only reads whole numbers)
    and fails the raw gate: nothing is built, the published file stays byte-identical."""
    from flows.nightly_refresh import nightly_refresh

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    rewrite_dataset(lake / "landing" / "survey" / "samskabelse_2016", unknown_sector_area)
    with using_lake(lake):
        state = nightly_refresh(return_state=True)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "Raw data failed blocking checks" in message
    assert "sector_area_code" in message and "raw.survey_respondents" in message
    assert "raw.survey_respondents holds rows from: survey/opfoelgning_2019/dataset.csv, " in message
    assert "survey/samskabelse_2016/dataset.csv" in message
    assert published.read_bytes() == before
    assert not list((lake / "published").glob(".candidate-*"))
    # Its notice lands in the notices file (the default destination), naming the failed check in counts.
    notice = (lake / "notices.log").read_text(encoding="utf-8")
    assert notice.startswith("== samskab: nightly refresh FAILED")
    assert "Raw data failed blocking checks" in notice and "sector_area_code" in notice
    assert "Analysts read the file of run" in notice
    manifest = refreshed_lake[1]
    assert not [value for value in (*manifest.names, *manifest.emails) if value.casefold() in notice.casefold()]


def test_unknown_municipality_and_duplicate_respondent_are_rejected_rows_and_the_rest_is_published(
    refreshed_lake, tmp_path, research_key
):
    """A municipality that resolves to nothing is quarantined and a repeated respondent id rejected, each
    named by file, row and column in meta.rejected_rows; the rest of the export is published."""
    from flows.nightly_refresh import nightly_refresh

    lake = copy_lake(refreshed_lake[0], tmp_path)

    def damaged(header, rows):
        rows[30][header.index("kommune")] = "999"  # a head with one record (line 32)
        return [*rows, list(rows[10])]

    rewrite_dataset(lake / "landing" / "survey" / "samskabelse_2016", damaged)
    with using_lake(lake):
        report = nightly_refresh()
    survey = next(load for load in report.loads if load.delivery == "survey/samskabelse_2016")
    assert survey.n_rejected == 2 and report.needing_attention == []
    rejected = published_tables(lake / "published" / "analytics.duckdb", ["meta.rejected_rows"])["meta.rejected_rows"]
    assert rejected[["file", "line", "column_name"]].values.tolist() == [
        ["survey/samskabelse_2016/dataset.csv", 32, "kommune"],
        ["survey/samskabelse_2016/dataset.csv", 788, "responde"],
    ]
    assert "999" not in " ".join(rejected["reason"])
    coverage = published_tables(lake / "published" / "analytics.duckdb", ["survey_coverage"])["survey_coverage"]
    invited = coverage[coverage["breakdown"] == "all"].set_index("wave_id")["n_invited"]
    assert invited["2016"] == 98 * 8 - 1 and invited["2019"] == 98 * 8


def test_failed_dbt_test_blocks_publishing_and_the_run_ends_failed(refreshed_lake, tmp_path, research_key, capsys):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    from samskab.cli import main

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    # A new download of Statistics Denmark's municipality groups that lacks Læsø: every input reads,
    # but the municipality master's test (a group for every municipality) fails in dbt.
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    groups = project / "seeds" / "kommunegrupper.csv"
    lines = groups.read_bytes().decode("utf-8").split("\r\n")
    groups.write_bytes("\r\n".join(line for line in lines if ';"825";' not in line).encode("utf-8"))
    with using_lake(lake), using_setting("SAMSKAB_DBT_PROJECT_DIR", str(project)):
        assert main(["refresh"]) == 1
    out = capsys.readouterr().out
    assert "FAILED its quality gate" in out and "Nothing was published" in out
    assert "dbt build failed" in out and "not_null_int_municipalities_municipality_group_code" in out
    assert published.read_bytes() == before
    with get_client(sync_client=True) as client:
        latest = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)[0]
    assert latest.state.is_failed() and "dbt build failed" in latest.state.message

    with using_lake(lake):
        assert main(["status"]) == 1
    status = capsys.readouterr().out
    assert f"Last refresh: {latest.name}, " in status and ": failed.\n  FAILED: dbt build failed" in status
    assert "not_null_int_municipalities_municipality_group_code" in status
    assert "Runs that failed since the file was built (1):" in status
    assert status.index("Analysts read:") < status.index(f"({refreshed_lake[2].run_id})")


@pytest.fixture()
def key_in_prefect_secret():
    """The pseudonym key kept as a Prefect Secret block, as a scheduled deployment would have it."""
    from prefect.blocks.system import Secret

    from samskab.operate.prefect_runs import PSEUDONYM_SECRET_BLOCK

    Secret(value="a-key-kept-in-prefect-0123456789abcdef").save(PSEUDONYM_SECRET_BLOCK, overwrite=True)
    yield
    Secret.delete(PSEUDONYM_SECRET_BLOCK)


def test_unreadable_row_is_rejected_with_file_line_and_reason_and_the_rest_is_published(
    refreshed_lake, tmp_path, key_in_prefect_secret
):
    from flows.nightly_refresh import nightly_refresh

    lake = copy_lake(refreshed_lake[0], tmp_path)

    def broken_row(header, rows):
        rows[15] = rows[15][:-3]  # a row cut short: line 17 of the file
        return rows

    rewrite_dataset(lake / "landing" / "survey" / "samskabelse_2016", broken_row)
    with using_lake(lake):
        report = nightly_refresh()
    survey = next(load for load in report.loads if load.delivery == "survey/samskabelse_2016")
    assert survey.n_rejected == 1
    assert survey.rejects == ["survey/samskabelse_2016/dataset.csv, row 17: has 99 fields; the header has 102"]
    rejected = published_tables(lake / "published" / "analytics.duckdb", ["meta.rejected_rows"])["meta.rejected_rows"]
    assert rejected[["file", "line"]].values.tolist() == [["survey/samskabelse_2016/dataset.csv", 17]]


def test_second_refresh_while_one_runs_exits_and_changes_nothing(refreshed_lake, tmp_path, capsys):
    from samskab.cli import main
    from samskab.operate.locking import refresh_lock

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    with using_lake(lake) as settings, refresh_lock(settings.lock_path):
        assert main(["refresh"]) == 3
    assert "already running" in capsys.readouterr().out
    assert published.read_bytes() == before


def test_a_delivery_that_empties_a_mart_fails_the_drift_gate_and_nothing_is_published(
    refreshed_lake, tmp_path, research_key
):
    """Both survey exports come back with their concrete-collaboration section blank. Every raw check and
    every dbt test passes (an empty collaborations mart is a valid table), but analysts had collaborations
    yesterday and would have none: the blocking drift check discards the candidate, and the published file
    stays byte-identical."""
    from flows.nightly_refresh import nightly_refresh
    from samskab.common.reference import seed_rows

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    files_before = sorted(path.name for path in (lake / "published").iterdir())
    section: dict[str, set[str]] = {}  # the variables of the collaborations each head describes, per wave
    for row in seed_rows("survey_item_map"):
        if row["collaboration_slot"]:
            section.setdefault(row["wave_id"], set()).add(row["variable_name"])

    def without_section(wave_id):
        def change(header, rows):
            columns = [header.index(name) for name in section[wave_id]]
            for row in rows:
                for column in columns:
                    row[column] = ""
            return rows

        return change

    for export, wave_id in (("samskabelse_2016", "2016"), ("opfoelgning_2019", "2019")):
        rewrite_dataset(lake / "landing" / "survey" / export, without_section(wave_id))
    with using_lake(lake):
        state = nightly_refresh(return_state=True)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "Marts failed blocking checks; the published file is unchanged." in message
    (blocking,) = [line for line in message.splitlines() if line.startswith("BLOCKING:")]
    assert blocking.startswith("BLOCKING: suite drift_row_counts on table main.all_marts")
    assert "column n_now" in blocking and "Result: 1 of " in blocking
    assert "marts that had rows have none now: collaborations." in blocking
    assert "Raw data failed" not in message and "dbt build failed" not in message  # only drift could see it
    assert "drift_row_counts" in state.message  # the flow run itself ends Failed, naming the check
    assert published.read_bytes() == before
    assert sorted(path.name for path in (lake / "published").iterdir()) == files_before  # candidate removed


def test_refused_and_unrecognised_files_publish_the_rest_but_never_look_like_a_clean_run(
    refreshed_lake, tmp_path, research_key, capsys
):
    """An emptied Statbank answer, a stray file and a withdrawn hand download: the rest is published, exit code 4,
    the flow run ends 'Published, needs attention', and status names every file the next morning."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    from samskab.cli import EXIT_NEEDS_ATTENTION, main
    from samskab.ingest.deliveries import ingest_landing_zone
    from samskab.ingest.pseudonyms import Pseudonymiser

    lake = copy_lake(refreshed_lake[0], tmp_path)
    landing = lake / "landing"
    extra = landing / "statbank" / "FOLK1A_2030.csv"
    extra.write_bytes("\ufeffOMRÅDE;TID;INDHOLD\r\nHele landet;2020K4;6000000\r\n".encode())
    with using_lake(lake) as settings:
        ingest_landing_zone(settings, "an-earlier-run", Pseudonymiser(b"k" * 32))  # loads the extra extract only
    (landing / "withdrawn").mkdir()
    extra.rename(landing / "withdrawn" / extra.name)
    (landing / FOLK1A_ANSWER).write_bytes(b"")
    (landing / "survey" / "answers.sav.txt").write_text("not a delivery", encoding="utf-8")
    with using_lake(lake):
        assert main(["refresh"]) == EXIT_NEEDS_ATTENTION
    out = capsys.readouterr().out
    assert "but NOT EVERYTHING in the landing zone was read" in out
    assert f"REFUSED {FOLK1A_ANSWER}: is empty (0 bytes)" in out
    assert "NOT RECOGNISED survey/answers.sav.txt" in out
    assert "statbank/FOLK1A_2030.csv: withdrawn (no longer in the landing zone); 1 rows removed" in out
    assert str(landing) not in out  # landing files are named relative to the landing zone

    with get_client(sync_client=True) as client:
        latest = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)[0]
    assert latest.state.is_completed() and latest.state.name == "Published, needs attention"
    assert "needs-attention" in latest.tags  # the UI lists such runs apart
    assert FOLK1A_ANSWER in latest.state.message

    meta = published_tables(
        lake / "published" / "analytics.duckdb", ["meta.landing_files", "meta.withdrawn_files", "meta.input_files"]
    )
    landing_files = meta["meta.landing_files"].set_index("file")["state"].to_dict()
    assert landing_files[FOLK1A_ANSWER] == "refused"
    assert landing_files["survey/answers.sav.txt"] == "not recognised"
    assert landing_files["withdrawn/FOLK1A_2030.csv"] == "withdrawn"
    assert landing_files["survey/samskabelse_2016/dataset.csv"] == "unchanged"
    assert meta["meta.withdrawn_files"]["file"].tolist() == ["statbank/FOLK1A_2030.csv"]
    # The refused extract's last good version still stands behind the published population.
    assert FOLK1A_ANSWER in set(meta["meta.input_files"]["file"])
    text = "\n".join(frame.to_csv() for frame in meta.values())
    assert str(lake) not in text and str(tmp_path) not in text

    with using_lake(lake):
        assert main(["status"]) == EXIT_NEEDS_ATTENTION
    status = capsys.readouterr().out
    assert "Needs attention: 2 landing files or deliveries were refused, not recognised" in status
    assert FOLK1A_ANSWER in status and "survey/answers.sav.txt" in status

    # The next night nothing has changed: the files are still there, so the run still says so (exit 4, a
    # notice), and status still names them; until they are put right.
    with using_lake(lake) as settings:
        title = "landing files need attention\n"  # a notice's title line
        notices_before = settings.notices_path.read_text(encoding="utf-8").count(title)
        assert main(["refresh"]) == EXIT_NEEDS_ATTENTION
        out = capsys.readouterr().out
        assert "Nothing changed since run" in out and "STILL NEED ATTENTION" in out
        assert f"REFUSED {FOLK1A_ANSWER}: is empty (0 bytes)" in out and "survey/answers.sav.txt" in out
        assert (
            settings.notices_path.read_text(encoding="utf-8").count("landing files need attention\n")
            == notices_before + 1
        )
        assert main(["status"]) == EXIT_NEEDS_ATTENTION
    status = capsys.readouterr().out
    assert ": unchanged." in status and "Needs attention: 2 landing files" in status and FOLK1A_ANSWER in status


def test_a_recorded_interview_without_consent_stops_the_run_naming_it(refreshed_lake, tmp_path, research_key, caplog):
    """Consent is a gate: the run fails before dbt, naming the activity (never an informant), and
    publishes nothing; once consent is recorded it publishes, and an activity dated before its case's
    fieldwork only warns. (That second night Statbank cannot be reached, and the run goes on without it.)"""
    from openpyxl import load_workbook

    from flows.nightly_refresh import nightly_refresh

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    path = lake / "landing" / "cases" / "case_register.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["Aktiviteter"]
    header = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[header.index("optagelse")].value == "ja")
    activity_id, number = row[0].value, row[0].row
    row[header.index("samtykke")].value = "Afventer"
    workbook.save(path)
    with using_lake(lake):
        state = nightly_refresh(return_state=True)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "Raw data failed blocking checks" in message and "recorded interviews have consent" in message
    assert f"{activity_id} (case " in message and f"row {number} of its activities" in message
    assert published.read_bytes() == before

    workbook = load_workbook(path)
    sheet = workbook["Aktiviteter"]
    sheet.cell(row=number, column=header.index("samtykke") + 1, value="Givet")
    sheet.cell(row=number, column=header.index("dato") + 1, value=datetime(2016, 1, 15))
    workbook.save(path)
    # Tonight Statbank cannot be reached: the run says so and goes on with the answers that landed before.
    with (
        using_lake(lake),
        using_setting("SAMSKAB_STATBANK_API", "http://127.0.0.1:9/v1/"),
        using_setting("SAMSKAB_STATBANK_ATTEMPTS", "1"),
    ):
        state = nightly_refresh(return_state=True)
    assert state.is_completed()
    assert "FOLK1A: the Statbank API could not be reached after 1 attempt" in caplog.text
    assert "dbt test assert_case_activities_are_dated_plausibly warned" in caplog.text
    assert len(published_tables(published, ["municipality_population"])["municipality_population"]) == 98 * 24
    activities = published_tables(published, ["case_activities"])["case_activities"].set_index("activity_id")
    assert bool(activities.loc[activity_id, "is_before_fieldwork"]) and activities["consent_status"].notna().all()
    checks = published_tables(published, ["meta.quality_checks"])["meta.quality_checks"]
    consent = checks[checks["suite"] == "consent"].iloc[0]
    assert bool(consent["success"]) and consent["observed"].startswith("0 of ")
