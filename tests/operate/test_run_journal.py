"""The truth about last night: the run journal, `samskab status`, failure texts and notices, the no-op
decision, and commands that answer at once. End-to-end kills and rollbacks are in tests/operate/test_recovery.py."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from samskab.cli import EXIT_GATE_FAILED, EXIT_PUBLISHED, EXIT_STALE, describe_status
from samskab.common import failures
from samskab.common.settings import Settings
from samskab.operate import notices, run_journal
from samskab.operate.fingerprint import HELD, UNCHANGED, decide, fingerprint
from samskab.publish.swap import write_hold
from tests.lakes import REPO

ROOT = REPO
BUILT = datetime(2026, 11, 26, 2, 45, tzinfo=UTC)


def publish_file(settings: Settings, run_id: str, built: datetime = BUILT, inputs: str = "", parts: str = "") -> None:
    """A published file as status reads it: its lineage tables in `meta` (the marts do not matter here)."""
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(settings.published_path))
    try:
        connection.execute("create schema meta")
        connection.execute(
            "create table meta.runs as select ?::varchar as run_id, ?::varchar as flow_run_name, "
            "?::timestamp as finished_at, 'abc123' as code_version, 'PASSED: all checks met' as verdict, "
            "?::varchar as inputs_fingerprint, ?::varchar as inputs_parts",
            [run_id, f"name-{run_id}", built.replace(tzinfo=None), inputs, parts],
        )
        connection.execute(
            "create table meta.input_files as select 'survey' as source, 'survey/x/dataset.csv' as file, "
            "'ab' || repeat('0', 62) as sha256, 10 as n_rows, 0 as n_rejected"
        )
        connection.execute("create table meta.row_counts as select 'motives' as table_name, 252 as n_rows")
    finally:
        connection.close()


def run_in_a_process_that_dies(settings: Settings, run_id: str) -> None:
    """Open a journal record in another process, which then dies without closing it (as a SIGKILL leaves it)."""
    script = textwrap.dedent(
        f"""
        import os
        from samskab.operate.run_journal import open_run, REFRESH
        from samskab.common.settings import Settings
        open_run(Settings(data_lake={str(settings.data_lake)!r}), {run_id!r}, REFRESH, "killed-run")
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


# --- The journal ---------------------------------------------------------------------------------------


def test_a_run_is_recorded_before_it_starts_and_closed_after(tmp_path):
    settings = Settings(data_lake=tmp_path)
    entry = run_journal.open_run(settings, "r1", run_journal.REFRESH, "quiet-fox")
    (record,) = run_journal.read_runs(settings)
    assert record.is_open and run_journal.is_alive(record) and record.pid == os.getpid()
    assert run_journal.close_run(settings, entry, run_journal.PUBLISHED, "PASSED: fine", published_run_id="r1")
    (record,) = run_journal.read_runs(settings)
    assert record.state == run_journal.PUBLISHED and record.finished_at and not record.is_open
    assert not list(settings.runs_dir.glob("*.tmp"))


def test_a_record_left_open_by_a_dead_process_is_a_dead_run(tmp_path):
    settings = Settings(data_lake=tmp_path)
    run_in_a_process_that_dies(settings, "r-dead")
    (dead,) = run_journal.dead_runs(settings)
    assert dead.run_id == "r-dead" and not run_journal.is_alive(dead)
    run_journal.close_dead_run(settings, dead, "r-next", ["2 candidate files"])
    (record,) = run_journal.read_runs(settings)
    assert record.state == run_journal.DIED and "found unfinished by run r-next" in record.noted[0]
    assert run_journal.dead_runs(settings) == []


def test_a_reused_pid_is_not_taken_for_the_dead_run(tmp_path):
    """The record keeps when its process started: another process under the same pid is not the run."""
    settings = Settings(data_lake=tmp_path)
    entry = run_journal.open_run(settings, "r1", run_journal.REFRESH)
    entry.process_start = "1"  # as if this pid had belonged to a process started at boot
    assert not run_journal.is_alive(entry)


def test_a_run_that_cannot_record_its_end_stays_open_and_one_that_cannot_start_does_not_start(tmp_path):
    """A full disk, for real: the process may not grow any file beyond a few bytes (RLIMIT_FSIZE)."""
    settings = Settings(data_lake=tmp_path)
    script = textwrap.dedent(
        f"""
        import resource, signal
        from samskab.operate import run_journal
        from samskab.common.settings import Settings
        settings = Settings(data_lake={str(tmp_path)!r})
        entry = run_journal.open_run(settings, "r1", run_journal.REFRESH)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, resource.RLIM_INFINITY))
        print("closed" if run_journal.close_run(settings, entry, run_journal.PUBLISHED, "PASSED") else "open")
        try:
            run_journal.open_run(settings, "r2", run_journal.REFRESH)
        except run_journal.RunNotRecorded as error:
            print(error)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    assert out.splitlines()[0] == "open"
    assert "did not start: it could not record its start" in out and "File too large" in out
    (record,) = run_journal.read_runs(settings)  # no half-written record, no temporary file left
    assert record.run_id == "r1" and record.is_open and not run_journal.is_alive(record)
    assert not list(settings.runs_dir.glob("*.tmp"))


# --- samskab status --------------------------------------------------------------------------------------


def test_status_says_a_killed_run_did_not_finish_and_published_nothing(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_file(settings, "r-old")
    entry = run_journal.open_run(settings, "r-old", run_journal.REFRESH, "name-r-old")
    run_journal.close_run(settings, entry, run_journal.PUBLISHED, "PASSED: all checks met", published_run_id="r-old")
    run_in_a_process_that_dies(settings, "r-killed")
    text, code = describe_status(settings, now=BUILT + timedelta(hours=3))
    assert code == EXIT_GATE_FAILED
    assert "Last refresh: killed-run" in text and "DID NOT FINISH" in text
    assert "It published nothing: analysts read the file below, from an earlier run." in text
    assert "built 2026-11-26 02:45 UTC by flow run name-r-old (r-old)" in text
    assert "PASSED: all checks met" in text.split("Analysts read:")[1]  # the verdict belongs to the old file


def test_status_after_a_kill_just_past_the_swap_names_the_new_file_and_its_own_run(tmp_path):
    """Killed after the new file was swapped in, before its record was closed: the file is the new run's."""
    settings = Settings(data_lake=tmp_path)
    publish_file(settings, "r-new")
    run_in_a_process_that_dies(settings, "r-new")
    text, code = describe_status(settings, now=BUILT + timedelta(hours=1))
    assert code == EXIT_GATE_FAILED
    assert "DID NOT FINISH" in text and "It had already published the file below (its gate passed)." in text
    assert "by flow run name-r-new (r-new)" in text


def test_status_warns_when_the_last_success_is_older_than_26_hours_and_names_the_failed_runs(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_file(settings, "r1")
    entry = run_journal.open_run(settings, "r1", run_journal.REFRESH, "good-night")
    run_journal.close_run(settings, entry, run_journal.PUBLISHED, "PASSED", published_run_id="r1")
    failed = run_journal.open_run(settings, "r2", run_journal.REFRESH, "bad-night")
    run_journal.close_run(
        settings, failed, run_journal.FAILED, "FAILED: Raw data failed blocking checks\nBLOCKING: suite x ..."
    )
    fresh, code = describe_status(settings, now=datetime.now(UTC) + timedelta(hours=25))
    assert "STALE" not in fresh and code == EXIT_GATE_FAILED  # the last run failed: never a clean status
    assert "bad-night: FAILED: Raw data failed blocking checks" in fresh
    stale, code = describe_status(settings, now=datetime.now(UTC) + timedelta(hours=27))
    assert "WARNING: STALE. The last successful refresh was 27 hours ago (more than 26)" in stale
    assert "Runs that failed since the file was built (1):" in stale


def test_a_refresh_that_found_nothing_changed_keeps_the_file_fresh(tmp_path):
    settings = Settings(data_lake=tmp_path)
    publish_file(settings, "r1", built=datetime.now(UTC) - timedelta(hours=48))
    entry = run_journal.open_run(settings, "r2", run_journal.REFRESH, "calm-night")
    run_journal.close_run(settings, entry, run_journal.UNCHANGED, "Nothing changed since r1", published_run_id="r1")
    text, code = describe_status(settings)
    assert code == EXIT_PUBLISHED and "STALE" not in text
    assert "Last refresh: calm-night" in text and "unchanged" in text
    text, code = describe_status(settings, now=datetime.now(UTC) + timedelta(hours=30))
    assert code == EXIT_STALE and "30 hours ago" in text


def test_status_on_an_empty_lake_says_nothing_is_published(tmp_path):
    text, code = describe_status(Settings(data_lake=tmp_path))
    assert code == EXIT_GATE_FAILED and "No refresh has run yet." in text and "Nothing is published yet" in text


# --- Why a run stopped: never a cell value ----------------------------------------------------------------


def test_a_full_disk_is_named_as_such_however_deep_in_the_chain():
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as inner:
            raise duckdb.TransactionException("cannot rollback - no transaction is active") from inner
    except duckdb.Error as error:
        described = failures.describe(error)
        wrapped = failures.as_machine_failure(error, "loading survey/x")
    assert "no space left on the disk (ENOSPC)" in described
    assert "cannot rollback" not in described
    assert wrapped is not None and "while loading survey/x: no space left on the disk (ENOSPC)" in str(wrapped)
    duckdb_text = duckdb.IOException('Could not write file "warehouse.duckdb.wal": No space left on device')
    assert "ENOSPC" in failures.describe(duckdb_text)


def test_memory_run_out_is_named_as_such_with_what_to_do():
    """Python's MemoryError, DuckDB's out-of-memory error, or ENOMEM from the C library, however deep in the
    chain: the machine ran out of memory, not the data went wrong."""
    try:
        try:
            raise MemoryError()
        except MemoryError as inner:
            raise RuntimeError("a task failed") from inner
    except RuntimeError as error:
        wrapped = failures.as_machine_failure(error, "building the candidate")
        described = failures.describe(error)
    assert isinstance(wrapped, failures.MemoryFailure)
    assert "while building the candidate: the machine ran out of memory (ENOMEM)" in str(wrapped)
    assert "stop what else uses this machine's memory" in str(wrapped)
    assert "ran out of memory" in described
    duckdb_text = duckdb.OutOfMemoryException("Out of Memory Error: Failed to allocate block of 262144 bytes")
    assert isinstance(failures.as_machine_failure(duckdb_text, "x"), failures.MemoryFailure)
    assert isinstance(failures.as_machine_failure(OSError(12, "Cannot allocate memory"), "x"), failures.MemoryFailure)


def test_an_unexpected_error_is_described_by_its_kind_never_its_message():
    error = duckdb.ConversionException("Could not convert string 'Jensine Mikkelsen' to INT32")
    described = failures.describe(error)
    assert "ConversionException" in described and "Jensine" not in described
    assert failures.as_machine_failure(error, "x") is None


def test_a_full_disk_during_ingest_names_the_real_cause(tmp_path):
    """Ingest of the sample on a disk that fills up (the warehouse may grow by 300 kB only): the error
    says the disk, not DuckDB's 'cannot rollback - no transaction is active' that used to hide it."""
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from samskab.common import failures
        from samskab.ingest import deliveries as ingest
        from samskab.ingest.pseudonyms import Pseudonymiser
        from samskab.sample.generate import generate_sample
        from samskab.common.settings import Settings
        lake = Path({str(tmp_path / "lake")!r})
        generate_sample(lake / "landing")
        settings = Settings(data_lake=lake)
        ingest.prepare_raw_layer(settings)
        inventory = ingest.landing_inventory(settings)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        size = settings.warehouse_path.stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 300_000, resource.RLIM_INFINITY))
        try:
            for delivery in inventory.deliveries:
                ingest.ingest_delivery(settings, "r1", delivery, Pseudonymiser(b"k" * 32))
        except Exception as error:
            print(failures.describe(error))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, capture_output=True, text=True).stdout
    assert "a file grew larger than this machine allows (EFBIG)" in out
    assert "no transaction is active" not in out


# --- Notices ------------------------------------------------------------------------------------------------


def test_a_notice_is_appended_to_the_notices_file_by_default(tmp_path):
    settings = Settings(data_lake=tmp_path)
    assert notices.send_notice(settings, "samskab: nightly refresh FAILED", "Run x FAILED.\nBLOCKING: ...") == []
    assert notices.send_notice(settings, "second", "another") == []
    text = notices.read_notices(settings)
    assert text.index("== samskab: nightly refresh FAILED\nRun x FAILED.") < text.index("== second\nanother")


def test_a_notice_reaches_a_configured_apprise_destination(tmp_path):
    """A real Apprise JSON notification to a web hook on loopback; the default file is then not written."""
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        settings = Settings(data_lake=tmp_path, notify_urls=f"json://127.0.0.1:{port}/hook")
        assert notices.send_notice(settings, "samskab: FAILED", "Run x FAILED.") == []
        unreachable = Settings(data_lake=tmp_path, notify_urls="json://127.0.0.1:9/hook,json://user:pw@127.0.0.1:9/")
        assert notices.send_notice(unreachable, "t", "b") == ["json://…", "json://…"]  # never the password
    finally:
        server.shutdown()
        server.server_close()
    assert received and received[0]["title"] == "samskab: FAILED" and received[0]["message"] == "Run x FAILED."
    assert not settings.notices_path.exists()


# --- Whether a refresh has anything to do -------------------------------------------------------------------


def test_the_same_inputs_are_unchanged_and_any_change_runs_the_refresh(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    (project / "seeds").mkdir(parents=True)
    (project / "seeds" / "codes.csv").write_text("code\n1\n", encoding="utf-8")
    suites = tmp_path / "expectations"
    suites.mkdir()
    (suites / "raw_x.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("SAMSKAB_EXPECTATIONS_DIR", str(suites))
    settings = Settings(data_lake=tmp_path / "lake", dbt_project_dir=project)
    (settings.landing_dir / "survey").mkdir(parents=True)
    (settings.landing_dir / "survey" / "a.csv").write_text("x\n", encoding="utf-8")
    assert decide(settings).run  # nothing published yet
    publish_file(settings, "r1", inputs=fingerprint(settings).digest)
    unchanged = decide(settings)
    assert not unchanged.run and unchanged.state == UNCHANGED and "Nothing changed since run r1" in unchanged.message
    assert decide(settings, force=True).run

    (settings.landing_dir / "survey" / "a.csv").touch()  # the same bytes, a new time: still nothing new
    assert not decide(settings).run
    changes = {
        "the landing zone": lambda: (settings.landing_dir / "b.txt").write_text("new", encoding="utf-8"),
        "the code or reference data": lambda: (project / "seeds" / "codes.csv").write_text("code\n2\n"),
        "a suite": lambda: (suites / "raw_x.json").write_text('{"name": "raw_x"}', encoding="utf-8"),
        "the settings": lambda: None,
    }
    for what, change in changes.items():
        change()
        current = settings.replace(drift_threshold=0.2) if what == "the settings" else settings
        decision = decide(current)
        assert decision.run, what
        # Only a change in the landing zone tells `samskab refresh` to start the readers early.
        assert decision.reads_landing == (what == "the landing zone"), what
        assert decide(current, force=True).reads_landing == (what == "the landing zone"), what
        publish_file_again(current)
        assert not decide(current).run, what


def publish_file_again(settings: Settings) -> None:
    settings.published_path.unlink()
    current = fingerprint(settings)
    publish_file(settings, "r-next", inputs=current.digest, parts=current.parts())


def test_after_a_rollback_the_same_inputs_are_held_and_a_change_ends_the_hold(tmp_path):
    settings = Settings(data_lake=tmp_path / "lake")
    (settings.landing_dir / "survey").mkdir(parents=True)
    (settings.landing_dir / "survey" / "a.csv").write_text("x\n", encoding="utf-8")
    publish_file(settings, "r-rolled-back-to", inputs="an older digest")
    write_hold(settings, fingerprint(settings).digest, "run r-rolled-back-to", "run r-bad")
    held = decide(settings)
    assert not held.run and held.state == HELD and "run r-rolled-back-to" in held.message and "--force" in held.message
    assert decide(settings, force=True).run
    (settings.landing_dir / "survey" / "b.csv").write_text("a correction\n", encoding="utf-8")
    assert decide(settings).run


# --- Commands that answer at once ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["status"], ["refresh", "--help"]])
def test_help_and_status_import_nothing_heavy(tmp_path, argv):
    """What `samskab --help` and `samskab status` import: neither Prefect, dbt, Great Expectations, pandas
    nor pydantic (measured: 0.1 s and 0.35 s; their import alone took 3 s before)."""
    script = textwrap.dedent(
        f"""
        import sys
        from samskab.cli import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        heavy = sorted({{name.split(".")[0] for name in sys.modules}} &
                       {{"prefect", "dbt", "great_expectations", "pandas", "pydantic", "pydantic_settings", "httpx"}})
        print("HEAVY", heavy)
        """
    )
    env = {**os.environ, "SAMSKAB_DATA_LAKE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env).stdout
    assert "HEAVY []" in out, out


def test_row_counts_say_the_change_since_the_last_publish():
    from samskab.publish.swap import row_changes

    first = row_changes({"motives": 252}, None)
    assert first == [{"table": "motives", "rows": 252, "rows before": "", "change": "first publish"}]
    rows = {row["table"]: row for row in row_changes({"motives": 240, "new_mart": 5}, {"motives": 252, "gone": 9})}
    assert rows["motives"]["change"] == "-12 (-4.8%)" and rows["motives"]["rows before"] == 252
    assert rows["new_mart"]["change"] == "new table" and rows["gone"]["change"] == "no longer published"


def test_dbt_messages_that_may_quote_data_stay_in_dbts_log():
    """A failing data test's message counts rows and is shown; a database error may quote a cell, and is not."""
    from types import SimpleNamespace

    from samskab.build.dbt import safe_message

    counted = SimpleNamespace(message="Got 3 results, configured to fail if != 0")
    assert safe_message(counted) == "Got 3 results, configured to fail if != 0"
    quoting = SimpleNamespace(message="Conversion Error: Could not convert string 'Jensine Mikkelsen' to INT32")
    said = safe_message(quoting)
    assert "Jensine" not in said and "dbt_logs/dbt.log" in said
