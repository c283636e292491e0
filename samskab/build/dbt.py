"""Raw -> marts: one in-process `dbt build` of the dbt project (models, seeds and dbt tests together).

dbt is invoked once per run, in this process, through dbt's own runner; its per-node results are turned
into words for the run's log and into one row per node for a table artifact. dbt-duckdb keeps the
warehouse open for the life of the process, so the connection is closed here before publish opens the
file again.

dbt parses the project once per process and version of its files: the parse is kept with a digest of
every file of the project and handed to each later command (the docs of the build, the next refresh in
a long-lived process), which then skips parsing (about 6 s on the sample: dbt's own partial parse does
not carry over to another data lake, because it is keyed by the warehouse's path).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from samskab.build import state
from samskab.build.state import BuildPlan, KeptTest
from samskab.common import failures, stop_points
from samskab.common.hashing import tree_digest
from samskab.common.settings import Settings, quiet_third_party_telemetry
from samskab.common.words import Severity

BLOCKING, WARNING = Severity.BLOCKING, Severity.WARNING


@dataclass(frozen=True)
class DbtNode:
    """One node dbt ran (or skipped), in names and numbers only.

    dbt's message for a node is left out on purpose: for a failing data test it only counts rows ("Got 3
    results, configured to fail if != 0"), but for a failing unit test it is a diff of rows and for a node
    that errored it is the database's error text, which may quote a value.
    """

    name: str
    resource_type: str  # seed, model, test, unit_test (snapshot, ... if the project grows them)
    status: str  # as dbt says it: success, error, skipped for models and seeds; pass, warn, fail, error for tests
    seconds: float  # dbt's execution time, rounded to 0.01 s
    severity: str  # blocking, or warning for a test configured `severity: warn`
    relation: str  # schema.alias of a model or seed; empty for tests
    failures: int | None  # failing rows dbt counted for a data test (1 for a failed unit test); None if none ran
    unique_id: str = ""  # dbt's id of the node, which the build state records tests by


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
    nodes: list[DbtNode] = field(default_factory=list)
    # When the machine stopped the build (a full disk, memory run out), not the data: that cause in words.
    machine_cause: str | None = None
    # Which nodes the build ran and why (samskab/build/state.py); None when built without a plan.
    plan: BuildPlan | None = None
    # The tests a partial build did not run, with the result of the build that last ran them.
    kept: list[KeptTest] = field(default_factory=list)

    @property
    def n_tests_kept_passed(self) -> int:
        return sum(1 for test in self.kept if test.status == "pass")

    def node_rows(self) -> list[dict[str, str | int | float]]:
        """One row per node for `prefect.artifacts.create_table_artifact`: names, statuses and counts,
        never a value from the data (an unknown failure count is an empty cell)."""
        return [
            {
                "name": node.name,
                "resource_type": node.resource_type,
                "status": node.status,
                "seconds": node.seconds,
                "severity": str(node.severity),
                "relation": node.relation,
                "failures": "" if node.failures is None else node.failures,
            }
            for node in self.nodes
        ]

    def describe(self) -> str:
        text = (
            f"dbt build {'passed' if self.success else 'FAILED'} in {self.seconds:.1f} s: "
            f"{self.n_models} models and seeds built, {self.n_tests_passed} dbt tests passed"
        )
        if self.kept:
            text += (
                f"; {len(self.kept)} tests of models that nothing changed were not run again "
                f"({self.n_tests_kept_passed} passed when last run)"
            )
        if self.failures:
            text += f", {len(self.failures)} failed: " + "; ".join(self.failures)
        if self.n_skipped:
            text += f"; {self.n_skipped} nodes skipped because something they depend on failed"
        return text


def close_dbt_duckdb_connection() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def release_dbt_log_file() -> None:
    """Close dbt's log file handlers: dbt replaces them on the next run without closing them."""
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager

    for dbt_logger in get_event_manager().loggers:
        python_logger = getattr(dbt_logger, "_python_logger", None)
        for handler in list(python_logger.handlers if python_logger else []):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                python_logger.removeHandler(handler)
    cleanup_event_logger()


class _NodeProgress:
    """dbt's events as progress (samskab/common/progress.py): its start lines give the number of nodes, and each
    finished node is a step."""

    def __init__(self, log: Callable[[str], None] | None) -> None:
        self.log = log
        self.progress = None
        # dbt calls back from its worker threads, which do not carry this thread's context (Prefect's
        # run logger and API address live in context variables; without them a log line would start a
        # temporary Prefect server). Run each callback in a copy of this context, one at a time.
        self.context = contextvars.copy_context()
        self.lock = threading.Lock()

    def __call__(self, event) -> None:
        with self.lock:
            self.context.run(self._on_event, event)

    def _on_event(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine" and self.progress is None and event.data.total:
            from samskab.common.progress import Progress

            self.progress = Progress("dbt build", int(event.data.total), "nodes", log=self.log)
        elif name == "NodeFinished" and self.progress is not None:
            self.progress.advance()
            done, total = self.progress.done, self.progress.total
            if done == 1:
                stop_points.reached("dbt start")
            if done == total // 2:
                stop_points.reached("dbt middle")
            if done == total:
                stop_points.reached("dbt end")

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.finish()


# dbt's parse of each project folder in this process: (digest of the project's files, dbt's Manifest).
_PARSED: dict[str, tuple[str, Any]] = {}
_PARSED_LOCK = threading.Lock()


def invoke_dbt(settings: Settings, command: list[str], callbacks: list | None = None) -> Any:
    """Run one dbt command in this process against the warehouse, the one way the platform calls dbt:
    the project, its profiles, the target and log folders in the data lake, quiet, no colours, and the
    project's parse when this process already has it for the same files. Returns dbt's result; the
    warehouse and dbt's log file are let go of after it, whatever happened."""
    from dbt.cli.main import dbtRunner

    arguments = _arguments(settings)
    try:
        manifest = _parsed_project(settings, arguments)
        return dbtRunner(manifest=manifest, callbacks=callbacks or []).invoke([*command, *arguments])
    finally:
        close_dbt_duckdb_connection()
        release_dbt_log_file()


def parse_in_background(settings: Settings) -> threading.Thread:
    """Import dbt and parse the project in a thread while the run does other work; the build then finds
    the parse done (or waits for it: the parse holds the lock `_parsed_project` takes). A project that
    does not parse is reported by the build, which parses it again."""

    def parse() -> None:
        with contextlib.suppress(Exception):  # the build meets the same failure and reports it
            parsed_manifest(settings)

    thread = threading.Thread(target=parse, name="dbt parse", daemon=True)
    thread.start()
    return thread


def _arguments(settings: Settings) -> list[str]:
    """The arguments every dbt command of the platform takes (and the environment its profile reads)."""
    os.environ["SAMSKAB_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    quiet_third_party_telemetry()
    project = str(settings.dbt_project_dir)
    return [
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.data_lake / "warehouse" / "dbt_logs"),
        # Node results and errors, not every query dbt sends (the debug level writes 10 MB per build).
        "--log-level-file",
        "info",
        "--no-use-colors",
        "--quiet",
    ]


def parsed_manifest(settings: Settings) -> Any:
    """dbt's Manifest of the project as its files are now (kept for the process; see _parsed_project)."""
    return _parsed_project(settings, _arguments(settings))


def _parsed_project(settings: Settings, arguments: list[str]) -> Any:
    """dbt's Manifest of the project as its files are now: kept from earlier in this process, else parsed
    (written to the target folder as every parse is). None when the project does not parse: the command
    then parses it again itself and reports why."""
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_dir)
    digest = tree_digest(settings.dbt_project_dir)
    with _PARSED_LOCK:
        kept = _PARSED.get(project)
        if kept is not None and kept[0] == digest:
            return kept[1]
        try:
            parsed = dbtRunner().invoke(["parse", *arguments])
        finally:
            release_dbt_log_file()
        if not parsed.success or parsed.result is None:
            return None
        _PARSED[project] = (digest, parsed.result)
        return parsed.result


def build_marts(
    settings: Settings,
    run_id: str = "",
    force: bool = False,
    progress_log: Callable[[str], None] | None = None,
) -> DbtOutcome:
    """Run `dbt build` against the warehouse, of what changed since the last build that succeeded, or of
    everything (samskab/build/state.py); returns the outcome, never raises on test failures. Progress per
    node goes to the terminal, or as a few lines to `progress_log` (samskab/common/progress.py)."""
    started = time.perf_counter()
    manifest = parsed_manifest(settings)
    build_plan = state.plan(settings, manifest, force) if manifest is not None else None
    command = ["build"]
    if build_plan is not None and not build_plan.full:
        command += ["--select", *build_plan.selectors(), "--state", str(state.state_dir(settings))]
    if progress_log is not None and build_plan is not None:
        progress_log(build_plan.describe())
    state.forget(settings)
    progress = _NodeProgress(progress_log)
    try:
        result = invoke_dbt(settings, command, callbacks=[progress])
    finally:
        progress.finish()
    outcome = _outcome(settings, result, time.perf_counter() - started)
    outcome.plan = build_plan
    if outcome.success and build_plan is not None:
        if not build_plan.full:
            ran = {node.unique_id for node in outcome.nodes}
            current = {*manifest.nodes, *getattr(manifest, "unit_tests", {})}
            outcome.kept = [
                test
                for unique_id, test in build_plan.recorded_tests.items()
                if unique_id not in ran and unique_id in current
            ]
        state.record(settings, build_plan, run_id, outcome.kept + _tests_run(outcome, run_id))
    return outcome


def _tests_run(outcome: DbtOutcome, run_id: str) -> list[KeptTest]:
    return [
        KeptTest(node.unique_id, node.name, node.resource_type, node.status, str(node.severity), node.failures, run_id)
        for node in outcome.nodes
        if node.resource_type in ("test", "unit_test")
    ]


def _outcome(settings: Settings, result: Any, seconds: float) -> DbtOutcome:
    """dbt's result in names and numbers: what ran, what failed and why (never a value)."""
    outcome = DbtOutcome(success=bool(result.success), seconds=seconds)
    if result.exception is not None:
        outcome.success = False
        outcome.machine_cause = failures.machine_cause(result.exception)
        outcome.failures.append(f"dbt could not run: {outcome.machine_cause or result.exception}")
        return outcome
    for node_result in result.result or []:
        node = node_result.node
        status = str(node_result.status)
        outcome.nodes.append(_node_of(node_result))
        said = safe_message(node_result)
        if status == "error" and outcome.machine_cause is None:
            outcome.machine_cause = machine_cause_in(node_result)
        if status in ("fail", "warn"):
            said += _failed_checks(settings, node)
        if status == "skipped":
            outcome.n_skipped += 1
        elif node.resource_type in ("model", "seed"):
            if status == "success":
                outcome.n_models += 1
            else:
                outcome.failures.append(f"{node.resource_type} {node.name} {status}: {said}")
        elif node.resource_type in ("test", "unit_test"):
            if status == "pass":
                outcome.n_tests_passed += 1
            elif status == "warn":
                outcome.warnings.append(f"dbt test {node.name} warned: {said}")
            else:
                outcome.failures.append(f"dbt test {node.name} {status}: {said}")
    outcome.success = outcome.success and not outcome.failures
    return outcome


# The platform's one-query tests, whose failing rows are (what failed, how many rows), never a value; a
# failed one is described by those rows: "(empty cells in a: 2 rows)", "(share outside [0, 1]: 1 row)".
_COUNTED_CHECKS = ("required_and_unique", "column_bounds", "references")


def _failed_checks(settings: Settings, node) -> str:
    """For a failed one-query test (`required_and_unique`, `column_bounds`, `references`), what failed and in
    how many rows; otherwise nothing. Read again from the warehouse after dbt let go of it, with the SQL dbt ran."""
    test = getattr(node, "test_metadata", None)
    sql = getattr(node, "compiled_code", None)
    if getattr(test, "name", None) not in _COUNTED_CHECKS or not sql:
        return ""
    import duckdb

    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
            rows = connection.execute(f"select * from ({sql}) order by 1").fetchall()
    except duckdb.Error:
        return ""
    counted = "; ".join(f"{check}: {n_rows} {'row' if n_rows == 1 else 'rows'}" for check, n_rows in rows)
    return f" ({counted})" if counted else ""


# dbt's own wording for a data test, which counts rows and quotes none.
_COUNTING_MESSAGE = re.compile(r"^Got \d+ results?, configured to (fail|warn) if [^\n]{1,40}$")


def machine_cause_in(node_result) -> str | None:
    """The machine's fault a node's error names (a full disk, memory run out), in words; else None."""
    return failures.machine_cause_in(str(node_result.message or ""))


def safe_message(node_result) -> str:
    """dbt's message when it only counts rows, or the machine's fault it names; otherwise (a database
    error, a unit test's diff of rows), where to read it: those texts may quote a value, so they stay in
    dbt's log beside the warehouse."""
    message = str(node_result.message or "")
    if _COUNTING_MESSAGE.match(message):
        return message
    cause = machine_cause_in(node_result)
    if cause is not None:
        return f"stopped: {cause}"
    return (
        "dbt's message is kept in data_lake/warehouse/dbt_logs/dbt.log (it may quote the data, so it is not shown here)"
    )


def _node_of(node_result) -> DbtNode:
    node = node_result.node
    resource_type = str(node.resource_type)
    is_test = resource_type in ("test", "unit_test")
    severity = str(getattr(node.config, "severity", None) or "error").lower()
    relation = ""
    if not is_test and getattr(node, "schema", None):
        relation = f"{node.schema}.{getattr(node, 'alias', None) or node.name}"
    failures = getattr(node_result, "failures", None)
    return DbtNode(
        name=node.name,
        resource_type=resource_type,
        status=str(node_result.status),
        seconds=round(float(node_result.execution_time or 0.0), 2),
        severity=WARNING if is_test and severity == "warn" else BLOCKING,
        relation=relation,
        failures=int(failures) if is_test and failures is not None else None,
        unique_id=str(getattr(node, "unique_id", "") or ""),
    )
