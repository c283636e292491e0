"""`samskab serve` killed while its nightly run builds the marts (as the machine's out-of-memory killer
would: SIGKILL to the serving process alone). Its Prefect server and the run's own process must end with
it, the published file stays whole, and the next `samskab refresh` recovers: the dead run is closed as
died and its Prefect flow run Crashed (not Running for ever), and no server is left behind.

Only in `make torture`: a Prefect server of its own, a run up to dbt, and a recovery.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from samskab.common import stop_points
from samskab.common.hashing import tree_digest
from samskab.operate.prefect_server import ANNOUNCEMENT, free_port, port_is_free
from tests.lakes import REPO, using_lake
from tests.serving import living_group_members, serve_environment, start_serve, wait_for, wait_for_ui_address
from tests.torture import tally
from tests.torture.faults import KEY, assert_snapshots_match_their_checksums, assert_whole, prepared_lake

pytestmark = [pytest.mark.end_to_end, pytest.mark.own_prefect_server]

TORTURE = bool(os.environ.get("SAMSKAB_TORTURE"))
POINT = "dbt middle"


def flow_run_state(prefect_home: Path, flow_run_id: str) -> str:
    """The state Prefect's own database holds for a flow run (read with its server stopped)."""
    with sqlite3.connect(prefect_home / "prefect.db") as database:
        (state,) = database.execute("select state_type from flow_run where id = ?", [flow_run_id]).fetchone()
    return state


def a_serve_killed_mid_run_leaves_nothing_running_and_the_next_refresh_recovers(refreshed_lake, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from samskab.cli import EXIT_GATE_FAILED, describe_status
    from samskab.operate import run_journal

    lake = prepared_lake(refreshed_lake, tmp_path, "raw commit")  # a new delivery: the run has work to do
    landing = tree_digest(lake / "landing")
    published = lake / "published" / "analytics.duckdb"
    before = published.read_bytes()
    home = tmp_path / "prefect-home"
    said = tmp_path / "stopped-at.txt"
    env = serve_environment(home, SAMSKAB_DATA_LAKE=str(lake), SAMSKAB_PSEUDONYM_KEY=KEY)
    faulted = {**env, stop_points.STOP_AT: POINT, stop_points.STOP_LOG: str(said)}
    port = free_port()
    output = tmp_path / "serve.out"
    serve = start_serve(port, faulted, output)
    try:
        ui_url = wait_for_ui_address(serve, output, timeout=180)
        with temporary_settings(updates={PREFECT_API_URL: f"{ui_url}/api"}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("nightly_refresh/nightly-refresh")
            client.create_flow_run_from_deployment(deployment.id)
        reached = wait_for(lambda: said.is_file() and said.read_text(encoding="utf-8").strip(), timeout=600)
        assert reached, f"the run never reached {POINT!r}:\n{output.read_text(errors='replace')[-3000:]}"
        os.kill(serve.pid, signal.SIGKILL)  # the serving process alone, as the out-of-memory killer does
        serve.wait()
        left = wait_for(lambda: not living_group_members(serve.pid), timeout=30)
        assert left, f"still running after serve was killed: {living_group_members(serve.pid)}"
    finally:
        if living_group_members(serve.pid):
            os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()
    assert port_is_free(port)

    with using_lake(lake) as settings:
        assert published.read_bytes() == before
        assert_whole(published)
        assert_snapshots_match_their_checksums(settings)
        assert tree_digest(settings.landing_dir) == landing
        text, code = describe_status(settings)
        assert code == EXIT_GATE_FAILED and "DID NOT FINISH" in text, text
        (killed,) = run_journal.dead_runs(settings)
    assert flow_run_state(home, killed.flow_run_id) == "RUNNING"  # as the kill left it

    # The next refresh, by hand: no server answers, so it starts one of its own on the same Prefect home.
    recovery = subprocess.run(
        [sys.executable, "-m", "samskab.cli", "refresh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert recovery.returncode == 0, recovery.stdout[-3000:] + recovery.stderr[-3000:]
    with using_lake(lake) as settings:
        died = next(entry for entry in run_journal.read_runs(settings) if entry.run_id == killed.run_id)
        assert died.state == run_journal.DIED and "found unfinished by run" in died.noted[0]
        assert_whole(published)
        text, _ = describe_status(settings)
        assert "DID NOT FINISH" not in text, text
    assert flow_run_state(home, killed.flow_run_id) == "CRASHED"
    assert not (lake / ANNOUNCEMENT).exists()
    tally.record("kill points", "serve killed", "recovered")


if TORTURE:
    test_a_serve_killed_mid_run_leaves_nothing_running_and_the_next_refresh_recovers = (
        a_serve_killed_mid_run_leaves_nothing_running_and_the_next_refresh_recovers
    )
