"""The nightly refresh's gate, one poisoned lake per stage: a fault in a real delivery stops the run at the
stage that owns it, or is rejected and named, and is never published silently.

- raw: a lake whose survey export and case register each break a blocking raw check, refreshed once;
- dbt: a lake whose reference seed and study mapping each fail a dbt test, refreshed once;
- marts: drift, at the stage's own tasks, on a candidate with a mart emptied;
- publish: a lake with every fault that is rejected or refused but lets the rest publish, refreshed once
  (and once more the next night, with nothing changed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from samskab.publish import catalog
from tests.lakes import (
    FOLK1A_ANSWER,
    REPO,
    STUDY_KEY,
    copy_lake,
    last_flow_run,
    published_tables,
    rewrite_dataset,
    told,
    using_lake,
    using_setting,
)
from tests.torture import canaries

pytestmark = pytest.mark.end_to_end

DBT_PROJECT = REPO / "dbt_project"
RESEARCH_KEY = STUDY_KEY  # the refreshed sample's own
KEY_IN_PREFECT = STUDY_KEY  # the study's key, kept as a Prefect Secret block instead of the environment


@pytest.fixture()
def research_key(monkeypatch):
    """Edited deliveries are no longer the embedded sample, so they need a real pseudonym key."""
    monkeypatch.setenv("SAMSKAB_PSEUDONYM_KEY", RESEARCH_KEY)


def _recorded_activity(path: Path) -> tuple[str, int, list[str]]:
    """A recorded interview of the case register: its id, its row in the activities sheet, the header."""
    from openpyxl import load_workbook

    sheet = load_workbook(path)["Aktiviteter"]
    header = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[header.index("optagelse")].value == "ja")
    return row[0].value, row[0].row, header


def _set_activity(path: Path, number: int, header: list[str], **values) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    for column, value in values.items():
        workbook["Aktiviteter"].cell(row=number, column=header.index(column) + 1, value=value)
    workbook.save(path)


# --- raw: a blocking raw check fails; nothing is built or published ------------------------------------


@dataclass
class RawFailure:
    lake: Path
    message: str
    published_before: bytes
    published_after: bytes
    activity_id: str
    activity_row: int


@pytest.fixture(scope="module")
def raw_failure(refreshed_lake, tmp_path_factory) -> RawFailure:
    """A sector area the reference seed does not know (the reader only reads whole numbers, so it reaches
    raw), and a recorded interview whose consent is pending: one refresh, failed at the raw gate."""
    from flows.nightly_refresh import nightly_refresh

    lake = copy_lake(refreshed_lake[0], tmp_path_factory.mktemp("raw-poisoned"))
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()

    def unknown_sector_area(header, rows):
        rows[5][header.index("sektor")] = "99"
        return canaries.plant_in_survey_rows(header, rows)  # none may leave raw, on a failed night either

    rewrite_dataset(lake / "landing" / "survey" / "samskabelse_2016", unknown_sector_area)
    register = lake / "landing" / "cases" / "case_register.xlsx"
    activity_id, number, header = _recorded_activity(register)
    _set_activity(register, number, header, samtykke="Afventer")
    from openpyxl import load_workbook

    workbook = load_workbook(register)
    canaries.plant_in_case_register(workbook)
    workbook.save(register)
    with using_lake(lake), using_setting("SAMSKAB_PSEUDONYM_KEY", RESEARCH_KEY):
        state = nightly_refresh(return_state=True)
    assert state.is_failed()
    return RawFailure(
        lake, str(state.result(raise_on_failure=False)), before, published.read_bytes(), activity_id, number
    )


def test_poisoned_survey_fails_gate_and_leaves_published_file_byte_identical(raw_failure, refreshed_lake):
    message = raw_failure.message
    assert "Raw data failed blocking checks" in message
    assert "sector_area_code" in message and "raw.survey_respondents" in message
    assert "raw.survey_respondents holds rows from: survey/opfoelgning_2019/dataset.csv, " in message
    assert "survey/samskabelse_2016/dataset.csv" in message
    assert raw_failure.published_after == raw_failure.published_before
    assert not list((raw_failure.lake / "published").glob(".candidate-*"))
    # Its notice lands in the notices file (the default destination), naming the failed check in counts.
    notice = (raw_failure.lake / "notices.log").read_text(encoding="utf-8")
    assert notice.startswith("== samskab: nightly refresh FAILED")
    assert "Raw data failed blocking checks" in notice and "sector_area_code" in notice
    assert "Analysts read the file of run" in notice
    manifest = refreshed_lake[1]
    assert not [value for value in (*manifest.names, *manifest.emails) if value.casefold() in notice.casefold()]


@pytest.mark.torture
def test_no_canary_leaves_the_raw_layer_on_a_failed_night(raw_failure):
    """A name, an e-mail, a CPR number, a phone number and an informant's name in the deliveries of a night
    that fails at the raw gate: none is in any file outside raw (the journal, the notices, dbt's logs, the
    published file and its snapshots), Prefect's database or the failure's message."""
    message = raw_failure.lake.parent / "failure-message.txt"
    message.write_text(raw_failure.message, encoding="utf-8")
    searched = [*canaries.outside_raw(raw_failure.lake), *canaries.prefect_files(), message]
    planted = raw_failure.lake / "landing" / "survey" / "samskabelse_2016" / "dataset.csv"
    assert {what for _, what in canaries.places_holding([planted], canaries.CANARIES)} >= {"name", "phone"}
    hits = canaries.places_holding(searched, canaries.CANARIES)
    canaries.tally_search("a night failed at the raw gate", searched, hits)
    assert hits == []


def test_a_recorded_interview_without_consent_stops_the_run_naming_it(raw_failure):
    """Consent is a gate: the run fails before dbt, naming the activity (never an informant)."""
    message = raw_failure.message
    assert "recorded interviews have consent" in message
    assert (
        f"{raw_failure.activity_id} (case " in message
        and f"row {raw_failure.activity_row} of its activities" in message
    )
    assert "dbt build" not in message
    assert raw_failure.published_after == raw_failure.published_before


# --- dbt: a dbt test fails; nothing is published -------------------------------------------------------


@dataclass
class DbtFailure:
    lake: Path
    published_before: bytes
    exit_code: int
    out: str
    logged: str


@pytest.fixture(scope="module")
def dbt_failure(refreshed_lake, tmp_path_factory) -> DbtFailure:
    """A lake whose dbt project has two faults that only dbt's tests can see, refreshed once by `samskab
    refresh`: a new download of Statistics Denmark's municipality groups that lacks Læsø (the municipality
    master's test: a group for every municipality), and a typo in the study mapping (a variable the 2019
    export does not have), which would otherwise publish an empty figure as if nobody had answered."""
    from samskab.cli import main

    root = tmp_path_factory.mktemp("dbt-poisoned")
    lake = copy_lake(refreshed_lake[0], root)
    before = (lake / "published" / "analytics.duckdb").read_bytes()
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    groups = project / "seeds" / "kommunegrupper.csv"
    lines = groups.read_bytes().decode("utf-8").split("\r\n")
    groups.write_bytes("\r\n".join(line for line in lines if ';"825";' not in line).encode("utf-8"))
    item_map = project / "seeds" / "survey_item_map.csv"
    typo = item_map.read_text(encoding="utf-8").replace("\n2019,motiv_6,", "\n2019,motive_6,")
    assert typo != item_map.read_text(encoding="utf-8")
    item_map.write_text(typo, encoding="utf-8")
    with (
        using_lake(lake),
        using_setting("SAMSKAB_DBT_PROJECT_DIR", str(project)),
        using_setting("SAMSKAB_PSEUDONYM_KEY", RESEARCH_KEY),
        told() as (out, records),
    ):
        code = main(["refresh"])
    return DbtFailure(lake, before, code, out.getvalue(), records.text)


def test_failed_dbt_test_blocks_publishing_and_the_run_ends_failed(dbt_failure, refreshed_lake, capsys):
    from samskab.cli import main

    out = dbt_failure.out
    assert dbt_failure.exit_code == 1
    assert "FAILED its quality gate" in out and "Nothing was published" in out
    assert "dbt build failed" in out and "required_and_unique_int_municipalities fail" in out
    # The failed check names the empty columns and how many rows, no value.
    assert "(empty cells in municipality_group_code: 1 row; empty cells in municipality_group_name: 1 row)" in out
    assert (dbt_failure.lake / "published" / "analytics.duckdb").read_bytes() == dbt_failure.published_before
    # The terminal and the run's log tell the failure as its message; the frames are in the debug log.
    assert "Traceback" not in out and "Traceback" not in dbt_failure.logged
    assert "(the traceback is in warehouse/logs/refresh_debug.log in the data lake)" in dbt_failure.logged
    debug_log = (dbt_failure.lake / "warehouse" / "logs" / "refresh_debug.log").read_text(encoding="utf-8")
    assert "Traceback" in debug_log and "QualityGateFailed" in debug_log
    latest = last_flow_run(dbt_failure.lake)
    assert latest.state.is_failed() and "dbt build failed" in latest.state.message

    with using_lake(dbt_failure.lake):
        assert main(["status"]) == 1
    status = capsys.readouterr().out
    assert f"Last refresh: {latest.name}, " in status and ": failed.\n  FAILED: dbt build failed" in status
    assert "required_and_unique_int_municipalities" in status and "municipality_group_code: 1 row" in status
    assert "Runs that failed since the file was built (1):" in status
    assert status.index("Analysts read:") < status.index(f"({refreshed_lake[2].run_id})")


def test_a_mapping_row_naming_a_variable_the_export_lacks_stops_the_build(dbt_failure):
    """A typo in the study mapping fails the build, names the check, and analysts keep the file they have."""
    assert "dbt build failed" in dbt_failure.out and "assert_mapped_variables_are_in_their_wave" in dbt_failure.out
    assert (dbt_failure.lake / "published" / "analytics.duckdb").read_bytes() == dbt_failure.published_before


# --- marts: drift blocks a candidate that would take analysts' rows away ---------------------------------


def test_a_candidate_that_empties_a_mart_fails_the_drift_gate_and_is_discarded(refreshed_lake, tmp_path):
    """Both survey waves' concrete-collaboration sections came back blank, so the collaborations mart is
    empty: a valid table for dbt, but analysts had collaborations yesterday and would have none. The marts
    stage's own tasks, run as a flow on a copy of the refreshed lake: the blocking drift check discards the
    candidate, the run ends Failed naming the check, and the published file stays byte-identical."""
    import duckdb
    from prefect import flow

    from flows.nightly_refresh import build_candidate_task, check_marts_task

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    files_before = sorted(path.name for path in (lake / "published").iterdir())
    with using_lake(lake) as settings:
        with duckdb.connect(str(settings.warehouse_path)) as warehouse:
            assert warehouse.execute("select count(*) from marts.collaborations").fetchone()[0] > 0
            warehouse.execute("delete from marts.collaborations")

        @flow(name="marts stage")
        def marts_stage() -> list:
            return check_marts_task(settings, build_candidate_task(settings, "drift-probe"))

        state = marts_stage(return_state=True)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "Marts failed blocking checks; the published file is unchanged." in message
    (blocking,) = [line for line in message.splitlines() if line.startswith("BLOCKING:")]
    assert blocking.startswith("BLOCKING: suite drift_row_counts on table main.all_marts")
    assert "column n_now" in blocking and "Result: 1 of " in blocking
    assert "marts that had rows have none now: collaborations." in blocking
    assert "drift_row_counts" in state.message  # the flow run itself ends Failed, naming the check
    assert published.read_bytes() == before
    assert sorted(path.name for path in (lake / "published").iterdir()) == files_before  # candidate removed


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


# --- publish: rejected rows and refused files are named, and the rest is published -----------------------


@dataclass
class PublishedWithFaults:
    lake: Path
    exit_code: int
    out: str
    logged: str
    activity_id: str
    flow_run: object

    @property
    def published(self) -> Path:
        return self.lake / "published" / "analytics.duckdb"


@pytest.fixture(scope="module")
def published_with_faults(refreshed_lake, tmp_path_factory) -> PublishedWithFaults:
    """One refresh by `samskab refresh` of a lake with every fault that lets the rest publish:
    - in the 2016 export, a municipality that resolves to nothing (line 32), a repeated respondent (line 788)
      and a row cut short (line 17);
    - an emptied Statbank answer, a stray file, and a hand download that was loaded and then withdrawn;
    - consent recorded for a recorded interview, dated before its case's fieldwork;
    - Statbank cannot be reached tonight;
    - the pseudonym key kept as a Prefect Secret block, as a scheduled deployment has it (a block of the
      fixture's own name, SAMSKAB_PSEUDONYM_SECRET_BLOCK, so no other test's flow finds the key)."""
    from prefect.blocks.system import Secret

    from samskab.cli import main
    from samskab.ingest.deliveries import ingest_landing_zone
    from samskab.ingest.pseudonyms import Pseudonymiser

    lake = copy_lake(refreshed_lake[0], tmp_path_factory.mktemp("publish-poisoned"))
    landing = lake / "landing"

    extra = landing / "statbank" / "FOLK1A_2030.csv"
    extra.write_bytes("\ufeffOMRÅDE;TID;INDHOLD\r\nHele landet;2020K4;6000000\r\n".encode())
    with using_lake(lake) as settings:
        # loads the extra extract only
        ingest_landing_zone(settings, "an-earlier-run", Pseudonymiser(STUDY_KEY.encode()))
    (landing / "withdrawn").mkdir()
    extra.rename(landing / "withdrawn" / extra.name)

    def damaged(header, rows):
        rows[30][header.index("kommune")] = "999"  # a head with one record (line 32)
        rows[15] = rows[15][:-3]  # a row cut short (line 17), of another head with one record
        return [*rows, list(rows[10])]

    rewrite_dataset(landing / "survey" / "samskabelse_2016", damaged)
    (landing / FOLK1A_ANSWER).write_bytes(b"")
    (landing / "survey" / "answers.sav.txt").write_text("not a delivery", encoding="utf-8")
    register = landing / "cases" / "case_register.xlsx"
    activity_id, number, header = _recorded_activity(register)
    _set_activity(register, number, header, samtykke="Givet", dato=datetime(2016, 1, 15))

    block = f"gate-test-key-{uuid.uuid4().hex[:8]}"
    with (
        using_lake(lake),
        using_setting("SAMSKAB_PSEUDONYM_SECRET_BLOCK", block),
        using_setting("SAMSKAB_STATBANK_API", "http://127.0.0.1:9/v1/"),
        using_setting("SAMSKAB_STATBANK_ATTEMPTS", "1"),
        told() as (out, records),
    ):
        Secret(value=KEY_IN_PREFECT).save(block)
        try:
            code = main(["refresh"])
        finally:
            Secret.delete(block)
        flow_run = last_flow_run(lake)
    return PublishedWithFaults(lake, code, out.getvalue(), records.text, activity_id, flow_run)


def test_unknown_municipality_and_duplicate_respondent_are_rejected_rows_and_the_rest_is_published(
    published_with_faults,
):
    """A municipality that resolves to nothing is quarantined and a repeated respondent id rejected, each
    named by file, row and column in meta.rejected_rows; the rest of the export is published."""
    rejected = published_tables(published_with_faults.published, ["meta.rejected_rows"])["meta.rejected_rows"]
    assert rejected["file"].tolist()[0] == FOLK1A_ANSWER  # the refused file, as a whole
    rejected = rejected[rejected["file"].str.startswith("survey/")]
    assert rejected[["file", "line", "column_name"]].values.tolist() == [
        ["survey/samskabelse_2016/dataset.csv", 17, None],
        ["survey/samskabelse_2016/dataset.csv", 32, "kommune"],
        ["survey/samskabelse_2016/dataset.csv", 788, "responde"],
    ]
    assert "999" not in " ".join(rejected["reason"])
    coverage = published_tables(published_with_faults.published, ["survey_coverage"])["survey_coverage"]
    invited = coverage[coverage["breakdown"] == "all"].set_index("wave_id")["n_invited"]
    assert invited["2016"] == 98 * 8 - 2 and invited["2019"] == 98 * 8
    # Three rejected rows of 787 are few: the export itself does not need attention.
    assert "survey/samskabelse_2016" not in published_with_faults.flow_run.state.message


def test_unreadable_row_is_rejected_with_file_line_and_reason_and_the_rest_is_published(published_with_faults):
    assert "Rejected survey/samskabelse_2016/dataset.csv, row 17: has 99 fields; the header has 102" in (
        published_with_faults.logged
    )
    assert "survey/samskabelse_2016: loaded " in published_with_faults.logged
    assert "; rejected 3 rows or cells (see meta.rejected_rows), first: " in published_with_faults.logged


def test_the_key_is_taken_from_the_prefect_secret_block_when_the_environment_has_none(published_with_faults):
    from samskab.ingest.pseudonyms import key_fingerprint

    assert "DEMO key" not in published_with_faults.logged
    assert published_with_faults.flow_run.state.is_completed()
    # The block's key made the pseudonyms: the same key as the lake's earlier nights, so nothing was read again.
    with duckdb.connect(str(published_with_faults.published), read_only=True) as connection:
        (fingerprint,) = connection.execute("select pseudonym_key_fingerprint from meta.runs").fetchone()
    assert fingerprint == key_fingerprint(KEY_IN_PREFECT.encode())
    assert "read again from the landing zone under this key" not in published_with_faults.logged


def test_consent_recorded_publishes_and_an_activity_before_fieldwork_only_warns(published_with_faults):
    """Once consent is recorded the case register publishes; an activity dated before its case's fieldwork
    only warns. (Statbank cannot be reached tonight, and the run goes on with the answers that landed before.)"""
    logged, published = published_with_faults.logged, published_with_faults.published
    assert "FOLK1A: the Statbank API could not be reached after 1 attempt" in logged
    assert "dbt test assert_case_activities_are_dated_plausibly warned" in logged
    assert len(published_tables(published, ["municipality_population"])["municipality_population"]) == 98 * 24
    activities = published_tables(published, ["case_activities"])["case_activities"].set_index("activity_id")
    activity_id = published_with_faults.activity_id
    assert bool(activities.loc[activity_id, "is_before_fieldwork"]) and activities["consent_status"].notna().all()
    checks = published_tables(published, ["meta.quality_checks"])["meta.quality_checks"]
    consent = checks[checks["suite"] == "consent"].iloc[0]
    assert bool(consent["success"]) and consent["observed"].startswith("0 of ")


def test_refused_and_unrecognised_files_publish_the_rest_but_never_look_like_a_clean_run(published_with_faults):
    """An emptied Statbank answer, a stray file and a withdrawn hand download: the rest is published, exit
    code 4, the flow run ends 'Published, needs attention', and the published file names every file."""
    from samskab.cli import EXIT_NEEDS_ATTENTION

    lake, out = published_with_faults.lake, published_with_faults.out
    assert published_with_faults.exit_code == EXIT_NEEDS_ATTENTION
    assert "but NOT EVERYTHING in the landing zone was read" in out
    assert f"REFUSED {FOLK1A_ANSWER}: is empty (0 bytes)" in out
    assert "NOT RECOGNISED survey/answers.sav.txt" in out
    assert "statbank/FOLK1A_2030.csv: withdrawn (no longer in the landing zone); 1 rows removed" in out
    assert str(lake / "landing") not in out  # landing files are named relative to the landing zone
    # Not the embedded sample alone (a stray file, a withdrawn download): the file does not say synthetic.
    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
        assert not catalog.is_synthetic(connection)

    flow_run = published_with_faults.flow_run
    assert flow_run.state.is_completed() and flow_run.state.name == "Published, needs attention"
    assert "needs-attention" in flow_run.tags  # the UI lists such runs apart
    assert FOLK1A_ANSWER in flow_run.state.message

    meta = published_tables(
        published_with_faults.published, ["meta.landing_files", "meta.withdrawn_files", "meta.input_files"]
    )
    landing_files = meta["meta.landing_files"].set_index("file")["state"].to_dict()
    assert landing_files[FOLK1A_ANSWER] == "refused"
    assert landing_files["survey/answers.sav.txt"] == "not recognised"
    assert landing_files["withdrawn/FOLK1A_2030.csv"] == "withdrawn"
    assert landing_files["survey/opfoelgning_2019/dataset.csv"] == "unchanged"
    assert meta["meta.withdrawn_files"]["file"].tolist() == ["statbank/FOLK1A_2030.csv"]
    # The refused extract's last good version still stands behind the published population.
    assert FOLK1A_ANSWER in set(meta["meta.input_files"]["file"])
    text = "\n".join(frame.to_csv() for frame in meta.values())
    assert str(lake) not in text


def test_files_that_need_attention_are_named_every_morning_until_put_right(published_with_faults, capsys):
    """Status names every file the next morning; the next night nothing has changed, the files are still
    there, so the run still says so (exit 4, a notice), and status still names them, until they are put
    right. (Last in this module: it adds a night to the lake's journal.)"""
    from samskab.cli import EXIT_NEEDS_ATTENTION, main

    with using_lake(published_with_faults.lake) as settings:
        assert main(["status"]) == EXIT_NEEDS_ATTENTION
        status = capsys.readouterr().out
        assert "Needs attention: 2 landing files or deliveries were refused, not recognised" in status
        assert FOLK1A_ANSWER in status and "survey/answers.sav.txt" in status

        title = "landing files need attention\n"  # a notice's title line
        notices_before = settings.notices_path.read_text(encoding="utf-8").count(title)
        with (
            using_setting("SAMSKAB_PSEUDONYM_KEY", KEY_IN_PREFECT),  # the same key, from the environment
            using_setting("SAMSKAB_STATBANK_API", "http://127.0.0.1:9/v1/"),  # and Statbank still away
            using_setting("SAMSKAB_STATBANK_ATTEMPTS", "1"),
        ):
            assert main(["refresh"]) == EXIT_NEEDS_ATTENTION
        out = capsys.readouterr().out
        assert "Nothing changed since run" in out and "STILL NEED ATTENTION" in out
        assert f"REFUSED {FOLK1A_ANSWER}: is empty (0 bytes)" in out and "survey/answers.sav.txt" in out
        assert settings.notices_path.read_text(encoding="utf-8").count(title) == notices_before + 1
        assert main(["status"]) == EXIT_NEEDS_ATTENTION
    status = capsys.readouterr().out
    assert ": unchanged." in status and "Needs attention: 2 landing files" in status and FOLK1A_ANSWER in status


def test_every_command_the_refresh_prints_runs_as_printed_in_a_new_shell(published_with_faults):
    """What a researcher pastes after `make demo`: each command the refresh printed, in a new shell (this
    user's PATH, no activated environment) in the folder the refresh ran in, runs and answers."""
    printed = published_with_faults.out.split("\nA first query", 1)[1].splitlines()[1:]
    commands = [line.strip() for line in printed if line.startswith("  ") and not line.strip().startswith("(")]
    assert [command.split(" ", 2)[1] for command in commands] == ["sql", "report", "export"], commands
    shell = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "SAMSKAB_DATA_LAKE": str(published_with_faults.lake),
    }
    answers = {}
    for command in commands:
        ran = subprocess.run(["bash", "-c", command], env=shell, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, (command, ran.stdout[-2000:], ran.stderr[-2000:])
        answers[command.split(" ", 2)[1]] = ran.stdout
    assert "Region Hovedstaden" in answers["sql"] and "n_answering" in answers["sql"]
    assert "The study report of" in answers["report"]
    assert answers["export"].startswith("usage: samskab export")
