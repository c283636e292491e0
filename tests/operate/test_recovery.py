"""Nights that go wrong, end to end: a refresh with nothing to do, a refresh refused for want of a key
(refreshes killed half way: tests/torture/test_kills.py; a forced refresh and a rollback that holds:
tests/flows/test_partial_refresh.py, on the forced refresh that proves a partial one publishes the same).
Real Prefect, DuckDB, dbt and Great Expectations on copies of the refreshed sample."""

from __future__ import annotations

import uuid

import pytest

from tests.lakes import REPO, STUDY_KEY, copy_lake, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

ROOT = REPO


def task_names(flow_run_id) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {run.name.rsplit("-", 1)[0] for run in runs}


def test_a_refresh_with_nothing_changed_stops_without_dbt_or_the_gate(refreshed_lake, tmp_path, capsys):
    from flows.nightly_refresh import UNCHANGED_STATE, nightly_refresh
    from samskab.cli import main
    from samskab.operate import run_journal
    from samskab.publish import documented

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    # The study's key, as every night of this lake (another would read every delivery again).
    with using_lake(lake) as settings, using_setting("SAMSKAB_PSEUDONYM_KEY", STUDY_KEY):
        state = nightly_refresh(return_state=True)  # as the schedule runs it: the flow looks for itself
        report = state.result()
        assert state.is_completed() and state.name == UNCHANGED_STATE
        assert report.outcome == run_journal.UNCHANGED and "Nothing changed since run" in report.verdict
        ran = task_names(state.state_details.flow_run_id)
        assert "look for changes" in ran and "fetch registry data" in ran
        assert not ran & {"build marts with dbt", "check raw data", "check marts", "publish analytics file"}

        assert main(["refresh"]) == 0  # by hand: decided before Prefect is even started
        out = capsys.readouterr().out
        assert "Nothing changed since run" in out and "no stage ran" in out and "--force" in out
        entries = run_journal.read_runs(settings)
        assert [entry.state for entry in entries[-2:]] == [run_journal.UNCHANGED, run_journal.UNCHANGED]

        # Documentation of another run beside the file (its run was stopped after the swap, issue 22): with
        # nothing changed, the checks are made again on the same data and the pages built again.
        (settings.docs_dir / documented.STAMP).unlink()
        (settings.docs_dir / "report.html").unlink()
        assert main(["refresh"]) == 0  # the command hands this night to the flow, which builds them
        assert "Built the documentation of the published file's run" in capsys.readouterr().out
        assert documented.out_of_date(settings) is None and (settings.docs_dir / "report.html").is_file()
        flow_run_id = run_journal.read_runs(settings)[-1].flow_run_id
        ran = task_names(uuid.UUID(flow_run_id))
        assert {"check again for the documentation", "build documentation"} <= ran
        assert not ran & {"build marts with dbt", "check raw data", "check marts", "publish analytics file"}
    assert published.read_bytes() == before


def test_a_refresh_refused_for_want_of_a_key_is_a_failed_run_in_status(tmp_path, prefect_server, capsys):
    """Status used to repeat the last PASSED after a refresh refused for a missing key: now the refusal is
    a failed run of its own, with its reason, and its notice."""
    from samskab.cli import EXIT_GATE_FAILED, EXIT_NOT_STARTED, describe_status, main
    from samskab.operate import run_journal

    lake = tmp_path / "data_lake"
    (lake / "landing" / "survey").mkdir(parents=True)
    (lake / "landing" / "survey" / "answers.csv").write_text("id;kommune\n1;101\n", encoding="utf-8")
    with using_lake(lake) as settings:
        assert main(["refresh"]) == EXIT_NOT_STARTED
        assert "No pseudonym key" in capsys.readouterr().out
        (entry,) = run_journal.read_runs(settings)
        assert entry.state == run_journal.FAILED and "No pseudonym key" in entry.verdict
        text, code = describe_status(settings)
    assert code == EXIT_GATE_FAILED and ": failed.\n  FAILED: No pseudonym key" in text
    assert "No pseudonym key" in (lake / "notices.log").read_text(encoding="utf-8")
