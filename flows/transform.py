"""Raw -> marts: one in-process `dbt build` of the dbt project (models, seeds and dbt tests together).

dbt is invoked once per run, in this process, through dbt's own runner; its per-node results are turned
into words for the run's log. dbt-duckdb keeps the warehouse open for the life of the process, so the
connection is closed here before publish opens the file again.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from flows.settings import Settings


@dataclass
class DbtOutcome:
    """The verdict of one `dbt build`: which nodes ran, and in words what failed."""

    success: bool
    seconds: float
    n_models: int = 0
    n_tests_passed: int = 0
    n_skipped: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"dbt build {'passed' if self.success else 'FAILED'} in {self.seconds:.1f} s: "
            f"{self.n_models} models and seeds built, {self.n_tests_passed} dbt tests passed"
        )
        if self.failures:
            text += f", {len(self.failures)} failed: " + "; ".join(self.failures)
        if self.n_skipped:
            text += f"; {self.n_skipped} nodes skipped because something they depend on failed"
        return text


def _close_dbt_duckdb_connection() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _release_dbt_log_file() -> None:
    """Close dbt's log file handlers: dbt replaces them on the next run without closing them."""
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager

    for dbt_logger in get_event_manager().loggers:
        python_logger = getattr(dbt_logger, "_python_logger", None)
        for handler in list(python_logger.handlers if python_logger else []):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                python_logger.removeHandler(handler)
    cleanup_event_logger()


def build_marts(settings: Settings) -> DbtOutcome:
    """Run `dbt build` against the warehouse; returns the outcome, never raises on test failures."""
    os.environ["SAMSKAB_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_dir)
    started = time.perf_counter()
    try:
        result = dbtRunner().invoke(
            [
                "build",
                "--project-dir",
                project,
                "--profiles-dir",
                project,
                "--target-path",
                str(settings.data_lake / "warehouse" / "dbt_target"),
                "--log-path",
                str(settings.data_lake / "warehouse" / "dbt_logs"),
                "--no-use-colors",
                "--quiet",
            ]
        )
    finally:
        _close_dbt_duckdb_connection()
        _release_dbt_log_file()
    outcome = DbtOutcome(success=bool(result.success), seconds=time.perf_counter() - started)
    if result.exception is not None:
        outcome.success = False
        outcome.failures.append(f"dbt could not run: {result.exception}")
        return outcome
    for node_result in result.result or []:
        node = node_result.node
        status = str(node_result.status)
        if status == "skipped":
            outcome.n_skipped += 1
        elif node.resource_type in ("model", "seed"):
            if status == "success":
                outcome.n_models += 1
            else:
                outcome.failures.append(f"{node.resource_type} {node.name} {status}: {node_result.message}")
        elif node.resource_type in ("test", "unit_test"):
            if status == "pass":
                outcome.n_tests_passed += 1
            elif status == "warn":
                outcome.warnings.append(f"dbt test {node.name} warned: {node_result.message}")
            else:
                outcome.failures.append(f"dbt test {node.name} {status}: {node_result.message}")
    outcome.success = outcome.success and not outcome.failures
    return outcome
