"""What the tests share: data lakes (the embedded sample written into one, settings pointed at one, a
private copy, one built once per session for every worker), reading and editing their files, published
files of one tiny mart, and a Prefect server of a test's own.

Plain functions and constants; the fixtures that use them are in conftest.py and the test modules.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from samskab.common.hashing import tree_digest
from samskab.common.reference import seeds_dir
from samskab.common.settings import REPO_ROOT, Settings, get_settings, reset_settings
from samskab.ingest import statbank_api
from samskab.publish import swap as publish
from samskab.sample.generate import SampleManifest, generate_sample

# The repository's root (the platform's own), and the files the tests read (real exports and formats,
# with their provenance).
REPO = REPO_ROOT
FIXTURES = REPO / "tests" / "fixtures"

# When the sample lakes' Statbank answers were fetched: their landed names carry this stamp.
FETCHED_AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
FOLK1A_ANSWER = "statbank/api/FOLK1A_20261126T030000Z.csv"
ARE207_ANSWER = "statbank/api/ARE207_20261126T030000Z.csv"


def make_sample_lake(
    root: Path, scale: int = 1, waves: tuple[str, ...] | None = None, fetch_registry: bool = True
) -> tuple[Path, SampleManifest]:
    """A data lake whose landing zone holds the embedded sample (its first survey wave alone, if asked),
    and, unless `fetch_registry` is False, the Statbank answers the connector fetched from the sample's
    recordings (as the nightly refresh's first task does). The sample is the same for the same arguments
    and seeds: each kind is written once per process and copied (files, times and all) into `root`."""
    key = (scale, waves, fetch_registry, tree_digest(seeds_dir()))
    if key not in _SAMPLE_LAKES:
        written = Path(tempfile.mkdtemp(prefix="sample-lake-", dir=_sample_lakes_dir()))
        _SAMPLE_LAKES[key] = _write_sample_lake(written, scale, waves, fetch_registry)
    written_lake, written_manifest = _SAMPLE_LAKES[key]
    lake = root / "data_lake"
    shutil.copytree(written_lake, lake, symlinks=True)
    files = tuple(lake / path.relative_to(written_lake) for path in written_manifest.files)
    return lake, SampleManifest(files, written_manifest.names, written_manifest.emails)


def _write_sample_lake(
    root: Path, scale: int, waves: tuple[str, ...] | None, fetch_registry: bool
) -> tuple[Path, SampleManifest]:
    lake = root / "data_lake"
    landing = lake / "landing"
    landing.mkdir(parents=True)
    manifest = generate_sample(landing, scale=scale, **({"waves": waves} if waves else {}))
    if fetch_registry:
        results = statbank_api.fetch_registry(Settings(data_lake=lake), now=FETCHED_AT)
        assert {result.state for result in results} == {statbank_api.LANDED}, [r.message for r in results]
    return lake, manifest


_SAMPLE_LAKES: dict[tuple, tuple[Path, SampleManifest]] = {}


@functools.cache
def _sample_lakes_dir() -> str:
    """This process's folder of written sample lakes, removed when it ends."""
    folder = tempfile.mkdtemp(prefix="samskab-sample-lakes-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


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


# The pseudonym key the session's refreshed sample is made with (tests/conftest.py), as a study's would be:
# a lake's later runs use the same key, or read every delivery again (samskab/ingest/raw_store.py).
STUDY_KEY = "a-test-key-that-is-not-in-any-log-0123456789"

# A delivery the refreshed sample has not seen (a real classification, small): a run given it has work
# to do, a partial build and a publish. It is not the embedded sample, so that run needs a pseudonym key:
# the one the refreshed sample was made with.
NEW_DELIVERY = FIXTURES / "real" / "classifications" / "kommunegrupper_da.csv"
NEW_DELIVERY_KEY = STUDY_KEY


def deliver_new(lake: Path) -> Path:
    """Drop NEW_DELIVERY into the lake's landing zone; returns where it landed."""
    folder = lake / "landing" / "classifications"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(NEW_DELIVERY, folder / NEW_DELIVERY.name))


def build_once(folder: Path, build: Callable[[Path], bytes]) -> bytes:
    """What `build(folder)` returned, built by the first process of the session to ask while the others
    wait (an exclusive lock on `folder.lock`), kept as `folder/built.pickle` for the rest. A build that
    failed leaves no result, so the next process tries again and fails with its own error."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    result = folder / "built.pickle"
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            built = build(folder)
            partial = folder / "built.pickle.partial"
            partial.write_bytes(built)
            partial.rename(result)
        return result.read_bytes()


def published_tables(path: Path, tables: list[str]) -> dict[str, pd.DataFrame]:
    """The named tables of a DuckDB file as pandas frames, read through a read-only connection."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return {table: connection.execute(f"select * from {table}").df() for table in tables}
    finally:
        connection.close()


def rewrite_dataset(export: Path, change: Callable[[list[str], list[list[str]]], list[list[str]]]) -> None:
    """Edit a SurveyXact dataset the way a broken export would look, keeping its encoding (UTF-16, tabs)."""
    path = export / "dataset.csv"
    lines = path.read_bytes().decode("utf-16").split("\n")
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line]
    rows = change(header, rows)
    text = "\n".join(["\t".join(header), *("\t".join(row) for row in rows)]) + "\n"
    path.write_bytes("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"))


def last_flow_run(lake: Path):
    """The Prefect flow run of the lake's latest refresh, found through its run journal (other tests run
    flows on the same server at the same time, so "the latest flow run" would not be this lake's)."""
    import uuid

    from prefect.client.orchestration import get_client

    from samskab.operate.run_journal import read_runs

    with using_lake(lake) as settings:
        flow_run_id = next(entry.flow_run_id for entry in reversed(read_runs(settings)) if entry.flow_run_id)
    with get_client(sync_client=True) as client:
        return client.read_flow_run(uuid.UUID(flow_run_id))


# Published files of one tiny mart, for the snapshot and SQL-shell tests.

SAMSKAB = [sys.executable, "-m", "samskab.cli"]
# 02:31 Danish time on 20 and 21 November (UTC+1 in winter).
FIRST_NIGHT = datetime(2026, 11, 20, 1, 31, 14, tzinfo=UTC)
SECOND_NIGHT = datetime(2026, 11, 21, 1, 30, 52, tzinfo=UTC)


def publish_version(settings: Settings, version: int, published_at: datetime, run_id: str) -> None:
    """A real publish (build, lineage, swap) of a one-mart warehouse whose figures say `version`."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute("create schema if not exists marts")
        connection.execute(
            "create or replace table marts.municipality_profile as "
            f"select range + 100 as municipality_code, {version} * 1000 + range as population from range(98)"
        )
    finally:
        connection.close()
    candidate = publish.build_candidate(settings, run_id)
    finished = published_at.replace(tzinfo=None)
    publish.write_meta(candidate.path, {"runs": pd.DataFrame([{"run_id": run_id, "finished_at": finished}])})
    publish.swap_in(settings, candidate, published_at=published_at)


def start_samskab(arguments: list[str], env: dict[str, str], output: Path) -> subprocess.Popen:
    """`samskab ARGUMENTS` in a process group of its own (a test can kill, or look for, everything it
    starts), its output written to `output`; not waited for."""
    with output.open("wb") as sink:
        return subprocess.Popen(
            [*SAMSKAB, *arguments],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def samskab(lake: Path, *args: str) -> subprocess.CompletedProcess:
    """`samskab ARGS` as a researcher types it, in a process of its own, on `lake`."""
    environment = {**os.environ, "SAMSKAB_DATA_LAKE": str(lake)}
    return subprocess.run([*SAMSKAB, *args], capture_output=True, text=True, cwd=REPO, env=environment, timeout=60)


class LogLines(logging.Handler):
    """Every log record of a block, as the text a researcher reads in the terminal and the Prefect log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.exc_info:  # the traceback the terminal and the UI would show under it
            self.lines.append(logging.Formatter().formatException(record.exc_info))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def told() -> Iterator[tuple[io.StringIO, LogLines]]:
    """What a block prints and logs, as a researcher reads it in the terminal: (stdout, log lines). For a
    module fixture, where pytest's capsys and caplog cannot be used."""
    out, records = io.StringIO(), LogLines()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        with contextlib.redirect_stdout(out):
            yield out, records
    finally:
        root.removeHandler(records)
