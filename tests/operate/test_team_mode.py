"""Team mode (issue 21): `samskab serve` on a Prefect server whose runs live in a real PostgreSQL, the nightly
deployment on a process work pool, and `samskab worker` in a separate copy of the project (tests/team.py); a
run triggered from the API is executed by the worker, in its copy, on its data lake, publishes, and commits to
the shared history (a DuckLake catalog in the same PostgreSQL)."""

from __future__ import annotations

import uuid

import duckdb
import pytest

from tests.lakes import copy_lake, deliver_new
from tests.team import POOL, team

pytestmark = pytest.mark.end_to_end


def test_a_run_triggered_from_the_api_is_run_by_a_worker_in_its_own_copy_and_publishes(refreshed_lake, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from samskab.publish import history

    lake = copy_lake(refreshed_lake[0], tmp_path)  # the worker machine's lake, with a new delivery
    deliver_new(lake)
    with team(lake, tmp_path) as crew:
        with temporary_settings(updates={PREFECT_API_URL: crew.api}), get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("nightly_refresh/nightly-refresh")
        assert deployment.work_pool_name == POOL
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $SAMSKAB_REPO_DIR }}"}}
        ]
        run = crew.run()
        finished = crew.wait(run.id)
        assert finished.state.is_completed(), f"{finished.state.name}: {finished.state.message}\n{crew.worker_output()}"
        assert finished.work_pool_name == POOL

        # It published on the worker's lake, built by the worker's copy (no git checkout there).
        with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
            run_id, code_version = connection.execute("select run_id, code_version from meta.runs").fetchone()
        assert uuid.UUID(run_id) == run.id
        assert code_version.endswith("(not a git checkout)"), code_version
        # ... and committed it to the shared history, tagged with the run.
        assert [kept.run_id for kept in history.listed(crew.settings)] == [run_id]
