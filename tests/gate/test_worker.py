"""Great Expectations in a process of its own (samskab/gate/worker.py): it gives the verdicts the run's
own process would, says a failure in safe words and goes on serving, is told when killed, and never
outlives the run that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samskab.gate.worker import GateWorker, GateWorkerFailed, raw_verdicts
from tests.lakes import copy_lake


def test_the_worker_gives_the_verdicts_and_progress_of_the_run_itself(refreshed_lake, tmp_path):
    warehouse = copy_lake(refreshed_lake[0], tmp_path) / "warehouse" / "warehouse.duckdb"
    here, without_consent = raw_verdicts(warehouse)
    lines: list[str] = []
    with GateWorker() as worker:
        there, without_consent_there = worker.run("raw", warehouse, log=lines.append)
    assert there == here and without_consent_there == without_consent
    assert [verdict.suite for verdict in there][-1] == "consent" and all(verdict.passed for verdict in there)
    assert lines[0].startswith("Great Expectations, raw suites: started") and "done" in lines[-1]


def test_a_failed_job_is_said_in_safe_words_and_the_worker_goes_on(refreshed_lake, tmp_path):
    """A candidate that is not a DuckDB file (here, text with a name in it): the worker answers with the
    error's kind, never its message, and serves the next job."""
    published = copy_lake(refreshed_lake[0], tmp_path) / "published" / "analytics.duckdb"
    damaged = tmp_path / "candidate.duckdb"
    damaged.write_text("Jensine Hansen, jensine@example.dk\n" * 100, encoding="utf-8")
    with GateWorker() as worker:
        with pytest.raises(GateWorkerFailed) as failed:
            worker.run("drift", damaged, published, 0.10)
        said = str(failed.value)
        assert said.startswith("Great Expectations failed while checking the marts' drift.")
        assert "its message is not shown" in said and "Jensine" not in said and "example.dk" not in said
        verdicts = worker.run("drift", published, published, 0.10)
    assert {verdict.suite for verdict in verdicts} == {"drift_row_counts", "drift_shares"}
    assert all(verdict.passed for verdict in verdicts)


def test_a_killed_worker_is_said_to_have_been_killed(tmp_path):
    with GateWorker() as worker:
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(GateWorkerFailed, match=r"process was killed \(signal 9"):
            worker.run("raw", tmp_path / "warehouse.duckdb")


def test_the_worker_dies_with_the_run_that_started_it(tmp_path):
    """A run killed mid-way (SIGKILL: no clean-up runs) takes its Great Expectations process with it."""
    said = tmp_path / "worker.pid"
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from samskab.gate.worker import GateWorker; worker = GateWorker(); "
            f"open({str(said)!r}, 'w').write(str(worker.pid)); time.sleep(600)",
        ]
    )
    deadline = time.monotonic() + 60
    while not (said.exists() and said.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    worker_pid = int(said.read_text())
    time.sleep(0.5)
    run.kill()
    run.wait()
    # Half a second in, the worker is still importing Great Expectations (seconds): were it not killed
    # with its parent, it would live until that import ends and it finds the run gone.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{worker_pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            return  # ended; its new parent (init) has yet to collect it
        time.sleep(0.1)
    pytest.fail(f"the worker {worker_pid} outlived the run that started it")


def test_the_run_takes_the_worker_started_early_and_one_not_taken_is_ended():
    """`samskab refresh` starts the worker before Prefect's start (GateWorker.early); the run takes that one,
    and one the run never took (it stopped before building) ends with the command."""
    GateWorker.close_waiting()
    with GateWorker.early():
        early = GateWorker.waiting()
        assert early is not None and early.alive
        with GateWorker.for_run() as taken:
            assert taken is early and GateWorker.waiting() is None
            with GateWorker.for_run() as another:
                assert another is not early
        # Both runs ended with their worker idle: the first to end waits for the next run, the other ended.
        assert GateWorker.waiting() is another and another.alive and not early.alive
    GateWorker.close_waiting()
    with GateWorker.early():
        left = GateWorker.waiting()
    assert left is not None and not left.alive
    assert GateWorker.waiting() is None


def test_the_next_run_of_the_process_takes_the_worker_the_last_left_under_its_own_settings(
    refreshed_lake, tmp_path, monkeypatch
):
    """One import of Great Expectations per process: a run leaves its idle worker to the next run, which
    gets its verdicts there under the settings of its own moment (here, suites in another folder: the
    raw survey answers' row-count band narrowed to fail). A worker killed or left mid-job is not taken."""
    import json
    import shutil

    from samskab.gate.suites import EXPECTATIONS_DIR_ENV, expectations_dir

    warehouse = copy_lake(refreshed_lake[0], tmp_path) / "warehouse" / "warehouse.duckdb"
    narrowed = tmp_path / "expectations"
    shutil.copytree(expectations_dir(), narrowed)
    suite_path = narrowed / "raw_survey_answers.json"
    suite = json.loads(suite_path.read_text(encoding="utf-8"))
    (band,) = [e for e in suite["expectations"] if e["type"] == "expect_table_row_count_to_be_between"]
    band["kwargs"].update(min_value=1, max_value=10)
    suite_path.write_text(json.dumps(suite), encoding="utf-8")

    GateWorker.close_waiting()
    with GateWorker.for_run() as first:
        verdicts, _ = first.run("raw", warehouse)
    assert all(verdict.passed for verdict in verdicts)
    assert GateWorker.waiting() is first and first.alive

    monkeypatch.setenv(EXPECTATIONS_DIR_ENV, str(narrowed))
    with GateWorker.for_run() as second:
        assert second is first  # no second import of GX
        verdicts, _ = second.run("raw", warehouse)
    failed = [verdict.suite for verdict in verdicts if not verdict.passed]
    assert failed == ["raw_survey_answers"]

    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while first.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    with GateWorker.for_run() as third:
        assert third is not first and third.alive
    GateWorker.close_waiting()
    assert not third.alive
