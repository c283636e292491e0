"""A run's failure in Prefect's log (samskab/operate/prefect_runs.py): the researcher reads the platform's
message for it, never a traceback or an exception's own text; the traceback is kept in the debug log."""

from __future__ import annotations

import logging

import pytest

from samskab.common.failures import ReportedFailure
from samskab.common.settings import Settings
from samskab.operate.prefect_runs import RUN_LOGGERS, tracebacks_to_debug_log
from tests.lakes import LogLines


def _read_a_cell():
    raise UnicodeDecodeError("utf-8", b"mette.hansen@aarhus.dk \xff", 23, 24, "invalid start byte")


@pytest.fixture
def run_loggers():
    """Prefect's run loggers without the handlers Prefect gave them (its API handler refuses a record outside
    a run), and as they were after the test."""
    loggers = {name: logging.getLogger(name) for name in RUN_LOGGERS}
    kept = {name: (list(lg.filters), list(lg.handlers), lg.level, lg.propagate) for name, lg in loggers.items()}
    for logger in loggers.values():
        logger.handlers[:], logger.propagate = [], False
        logger.setLevel(logging.INFO)
    yield loggers
    for name, logger in loggers.items():
        logger.filters[:], logger.handlers[:] = kept[name][0], kept[name][1]
        logger.setLevel(kept[name][2])
        logger.propagate = kept[name][3]


def test_a_failure_is_logged_as_its_message_and_its_traceback_goes_to_the_debug_log(tmp_path, run_loggers):
    settings = Settings(data_lake=tmp_path / "lake")
    tracebacks_to_debug_log(settings)
    tracebacks_to_debug_log(settings)  # a second run of the same process: installed once, not twice
    shown = LogLines()
    task_runs = run_loggers["prefect.task_runs"]
    task_runs.addHandler(shown)
    assert sum(type(f).__name__ == "TracebacksToDebugLog" for f in task_runs.filters) == 1

    try:
        _read_a_cell()
    except UnicodeDecodeError as error:
        task_runs.error("Task run failed with exception: %r", error, exc_info=True)
    try:
        raise ReportedFailure("The quality gate failed: 2 dbt tests failed.")
    except ReportedFailure as error:
        run_loggers["prefect.flow_runs"].addHandler(shown)
        run_loggers["prefect.flow_runs"].exception("Encountered exception during execution: %r", error)
    task_runs.info("Finished in state Completed()")

    said = shown.text
    assert "Traceback" not in said and "mette" not in said and "_read_a_cell" not in said
    assert said.splitlines() == [
        "The run stopped with an unexpected UnicodeDecodeError (its message is not shown: it may quote the data). "
        "The refresh's debug log names the place in the code; please report it. "
        "(the traceback is in warehouse/logs/refresh_debug.log in the data lake)",
        "The quality gate failed: 2 dbt tests failed. "
        "(the traceback is in warehouse/logs/refresh_debug.log in the data lake)",
        "Finished in state Completed()",
    ]
    debug_log = settings.debug_log_path.read_text(encoding="utf-8")
    assert debug_log.count("Traceback (most recent call last)") == 2
    assert "in _read_a_cell" in debug_log and "ReportedFailure: The quality gate failed" in debug_log
