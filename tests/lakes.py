"""Data lakes for the tests: the embedded sample written into one, settings pointed at one, a private copy.

Plain functions; the fixtures that use them are in conftest.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from samskab.common.settings import Settings, get_settings, reset_settings
from samskab.ingest import statbank_api
from samskab.sample.generate import SampleManifest, generate_sample

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
