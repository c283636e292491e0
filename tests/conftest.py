"""Shared fixtures: a data lake with the embedded sample, a Prefect test server, one refreshed lake.

The end-to-end tests share one session-scoped refresh of the sample instead of rebuilding per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from samskab.common.settings import TELEMETRY_OFF

# Before Prefect, dbt or Great Expectations is imported anywhere in the session.
os.environ.update(TELEMETRY_OFF)
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ.pop("SAMSKAB_PSEUDONYM_KEY", None)

from tests.lakes import make_sample_lake, using_lake


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A real, temporary Prefect server (SQLite, loopback) for every flow run of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def refreshed_lake(tmp_path_factory: pytest.TempPathFactory, prefect_server: None):
    """The embedded sample after one full nightly refresh: (lake, manifest, report)."""
    from flows.nightly_refresh import nightly_refresh

    lake, manifest = make_sample_lake(tmp_path_factory.mktemp("refreshed"))
    with using_lake(lake):
        report = nightly_refresh()
    return lake, manifest, report
