"""Shared fixtures: a data lake with the embedded sample, a Prefect test server, one refreshed lake.

The end-to-end tests share one session-scoped refresh of the sample instead of rebuilding per test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Before Prefect, dbt or Great Expectations is imported anywhere in the session.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.pop("SAMSKAB_PSEUDONYM_KEY", None)

from flows import statbank_api
from flows.sample.generate import SampleManifest, generate_sample
from flows.settings import Settings, get_settings, reset_settings

# When the sample lakes' Statbank answers were fetched: their landed names carry this stamp.
FETCHED_AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
FOLK1A_ANSWER = "statbank/api/FOLK1A_20261126T030000Z.csv"
ARE207_ANSWER = "statbank/api/ARE207_20261126T030000Z.csv"


def make_sample_lake(
    root: Path, scale: int = 1, waves: tuple[str, ...] | None = None, fetch_registry: bool = True
) -> tuple[Path, SampleManifest]:
    """A data lake whose landing zone holds the embedded sample (its first survey wave alone, if asked),
    and, unless `fetch_registry` is False, the Statbank answers the connector fetched from the sample's
    recordings (as the nightly refresh's first task does)."""
    lake = root / "data_lake"
    landing = lake / "landing"
    landing.mkdir(parents=True)
    manifest = generate_sample(landing, scale=scale, **({"waves": waves} if waves else {}))
    if fetch_registry:
        results = statbank_api.fetch_registry(Settings(data_lake=lake), now=FETCHED_AT)
        assert {result.state for result in results} == {statbank_api.LANDED}, [r.message for r in results]
    return lake, manifest


@contextmanager
def using_setting(variable: str, value: str) -> Iterator[Settings]:
    """Set one SAMSKAB_* environment variable for the duration of the block, with fresh settings."""
    previous = os.environ.get(variable)
    os.environ[variable] = value
    reset_settings()
    try:
        yield get_settings()
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
        reset_settings()


@contextmanager
def using_lake(lake: Path) -> Iterator[Settings]:
    """Point the platform's settings at `lake` for the duration of the block."""
    with using_setting("SAMSKAB_DATA_LAKE", str(lake)) as settings:
        yield settings


def copy_lake(source: Path, target_root: Path) -> Path:
    """A private copy of a refreshed lake, for tests that poison its inputs."""
    target = target_root / "data_lake"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".refresh.lock"))
    return target


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
