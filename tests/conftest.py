"""Shared fixtures: one Prefect server for the session, and one refreshed lake shared by both workers.

The end-to-end tests share one refresh of the sample instead of rebuilding per test or per worker.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from samskab.common.settings import TELEMETRY_OFF

# Before Prefect, dbt or Great Expectations is imported anywhere in the session.
os.environ.update(TELEMETRY_OFF)
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ.pop("SAMSKAB_PSEUDONYM_KEY", None)

# One real Prefect server on loopback for the whole session (SQLite in a temporary PREFECT_HOME), started
# by the first process (pytest_configure) before any worker; every flow run of every worker is recorded on
# it, so a test on one worker reads the runs of a refresh another worker made. Its address is chosen here,
# before Prefect reads its settings (at import), and the workers inherit it.
if "SAMSKAB_TESTS_PREFECT_HOME" not in os.environ:
    from samskab.operate.prefect_server import free_port

    os.environ["SAMSKAB_TESTS_PREFECT_HOME"] = tempfile.mkdtemp(prefix="samskab-tests-prefect-")
    os.environ["SAMSKAB_TESTS_PREFECT_PORT"] = str(free_port())
os.environ["PREFECT_HOME"] = os.environ["SAMSKAB_TESTS_PREFECT_HOME"]
os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{os.environ['SAMSKAB_TESTS_PREFECT_PORT']}/api"

from tests.lakes import STUDY_KEY, build_once, make_sample_lake, using_lake, using_setting

_SERVER = pytest.StashKey[object]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.collectonly or config.option.help:
        return
    from samskab.operate.prefect_server import launch_local_server

    # Launched, not waited for: its migrations run while the workers start and collect (_prefect_answers).
    config.stash[_SERVER] = launch_local_server(int(os.environ["SAMSKAB_TESTS_PREFECT_PORT"]))
    threading.Thread(target=_migrate_a_template, name="Prefect database template", daemon=True).start()


def _migrate_a_template() -> None:
    """Once the session's server answers (not to slow its start): an empty Prefect database migrated once,
    for the tests whose Prefect server is their own (tests/serving.py copies it into their homes). Marked
    `ready` when made, `failed` when not (those servers then migrate their own)."""
    from samskab.operate.prefect_server import wait_until_answering
    from tests.serving import PREFECT_TEMPLATE

    template = Path(os.environ["SAMSKAB_TESTS_PREFECT_HOME"]) / PREFECT_TEMPLATE
    template.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(template)
    try:
        wait_until_answering(os.environ["PREFECT_API_URL"], 180)
        subprocess.run(
            [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
            check=True,
        )
    except Exception:
        (template / "failed").touch()
    else:
        (template / "ready").touch()


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_SERVER, None)
    if server is not None:
        server.stop()
        shutil.rmtree(os.environ["SAMSKAB_TESTS_PREFECT_HOME"], ignore_errors=True)


_ANSWERED = False


def _wait_for_the_session_server(config: pytest.Config) -> None:
    """Once per process: wait until the session's Prefect server answers (launched in pytest_configure)."""
    global _ANSWERED
    if _ANSWERED:
        return
    from samskab.operate.prefect_server import wait_until_answering

    wait_until_answering(os.environ["PREFECT_API_URL"], 120, config.stash.get(_SERVER, None))
    _ANSWERED = True


@pytest.fixture(autouse=True)
def _prefect_answers(request: pytest.FixtureRequest) -> None:
    """Before a worker's first test that may run a flow: the session's Prefect server answers (every flow run
    reports to it). Tests marked `own_prefect_server` start one of their own and need not wait. A module or
    session fixture that runs a flow is set up before this one: it asks for `prefect_server` (or the
    refreshed lake, which does)."""
    if request.node.get_closest_marker("own_prefect_server") is None:
        _wait_for_the_session_server(request.config)


@pytest.fixture(scope="session")
def prefect_server(request: pytest.FixtureRequest) -> str:
    """The session's Prefect server (its API URL), answering: flows run here report to it."""
    url = os.environ.get("PREFECT_API_URL", "")
    assert url.startswith("http://127.0.0.1:"), "the session's Prefect server was not started (see conftest.py)"
    _wait_for_the_session_server(request.config)
    return url


def _session_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder of this session that every worker sees (under xdist, the parent of the workers' folders)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def refreshed_lake(tmp_path_factory: pytest.TempPathFactory, worker_id: str, prefect_server: str):
    """The embedded sample after one full nightly refresh under the study's key (tests.lakes.STUDY_KEY, so
    copies refreshed again with it read only what changed): (lake, manifest, report). Built once per session
    by the first worker to ask (a file lock), read by the other; tests only read it, or copy it first."""

    def build(root: Path) -> bytes:
        from flows.nightly_refresh import nightly_refresh

        lake, manifest = make_sample_lake(root)
        with using_lake(lake), using_setting("SAMSKAB_PSEUDONYM_KEY", STUDY_KEY):
            report = nightly_refresh()
        return pickle.dumps((lake, manifest, report))

    return pickle.loads(build_once(_session_root(tmp_path_factory, worker_id) / "refreshed", build))


# The longest modules first (longest first leaves no worker alone at the end). Ingest's tests start on one
# worker (they need neither the session's server nor the refreshed lake), while the other builds the shared
# refreshed lake in its first test; the real exports and the serve test, which start from that lake, come
# after. xdist keeps this order only with --no-loadscope-reorder (Makefile); by default it runs the modules
# with most tests first. The order only changes when each module runs, never what it proves. (`make test`
# prints the slowest tests; README, "The tests".)
RUN_FIRST = [
    "ingest/test_ingest.py",
    "operate/test_recovery.py",
    "ingest/test_real_exports.py",
    "operate/test_serve.py",
    "gate/test_refresh_gate.py",
    "build/test_study_waves.py",
    "flows/test_partial_refresh.py",
    "torture/test_kills.py",
    "analysts/test_export.py",
    "build/test_docs.py",
    "ingest/test_survey_exports.py",
    "build/test_study_marts_recomputed.py",
    "gate/test_quality_gate.py",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        module = item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""
        return RUN_FIRST.index(module) if module in RUN_FIRST else len(RUN_FIRST)

    items.sort(key=rank)  # stable: within a module, and among the rest, the order of collection


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before each test and its fixtures: Prefect's console log handler keeps the stderr it found when
    Prefect set up its logging; found while pytest captured a conftest's loading, or inside a test that used
    capsys, that stream is closed later, and every flow run after it fails in its logging (RecursionError
    through Prefect's print handler; found by running tests/operate/test_recovery.py and
    tests/torture/test_kills.py alone). So it writes to the stderr of the moment, pytest's capture."""
    if "prefect" in sys.modules:
        from prefect.logging.handlers import PrefectConsoleHandler

        for handler in logging.getLogger().handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.stream = sys.stderr  # (not setStream: it flushes the closed one)
                handler.console.file = sys.stderr
