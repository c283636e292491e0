"""Static documentation of a run: dbt's lineage site, Great Expectations' Data Docs and the study report.

`build_dbt_docs` runs `dbt docs generate --static` in this process and keeps its one self-contained
HTML file (the manifest and the catalog inlined: models, tests, lineage graph, column names and types).
dbt-duckdb's catalog reads DuckDB's own tables of tables, views and columns only, never a row.

`build_gx_data_docs` renders GX's Data Docs for the quality gate's verdicts from the results the gate
kept, already scrubbed of every cell value (`gate.scrub_validation_result`): pages show each check with
its arguments (code sets from the dbt seeds included), counts, and whole-table statistics only.

`build_study_report` draws the study's charts from the published file (flows/analysts/report.py) into
one HTML file that opens with no network.

All write files only; none fetches anything. GX's pages link Bootstrap, jQuery and Font Awesome from
public CDNs, which the reader's browser loads when a page is opened (without them the pages are plain
but readable); dbt's page carries its scripts inline.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.settings import Settings

if TYPE_CHECKING:
    from flows.quality.gate import SuiteVerdict

DBT_DOCS_DIR = "dbt"
GX_DOCS_DIR = "great_expectations"
_GX_SITE = "samskab_quality_gate"


class DocsFailed(RuntimeError):
    """dbt or Great Expectations could not build its documentation; says why in words."""


def _last_invocation_built(target: Path) -> bool:
    """True when the target's manifest is that of a `dbt build` (its compiled SQL is the one that ran)."""
    try:
        run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (target / "manifest.json").is_file() and (run_results.get("args") or {}).get("which") == "build"


def build_dbt_docs(settings: Settings, target_dir: Path) -> Path:
    """Run `dbt docs generate --static` against the warehouse; returns `target_dir/dbt/index.html`.

    Right after `transform.build_marts` the build's manifest is reused (`--no-compile`), so the page shows
    exactly what was built, with its compiled SQL: about 1 s on the sample in the process that built it,
    3 s in a fresh one. Without a build in the target, dbt compiles the project first (about 13 s).
    The page is about 5 MB and needs no other file. Raises DocsFailed when dbt cannot generate the docs.
    """
    from flows.transform import _close_dbt_duckdb_connection, _release_dbt_log_file

    os.environ["SAMSKAB_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_dir)
    target = settings.dbt_target_dir
    arguments = [
        "docs",
        "generate",
        "--static",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(target),
        "--log-path",
        str(settings.data_lake / "warehouse" / "dbt_logs"),
        "--no-use-colors",
        "--quiet",
    ]
    if _last_invocation_built(target):
        arguments.append("--no-compile")
    static_index = target / "static_index.html"
    static_index.unlink(missing_ok=True)  # never publish the page of an earlier run
    try:
        result = dbtRunner().invoke(arguments)
    finally:
        _close_dbt_duckdb_connection()
        _release_dbt_log_file()
    if result.exception is not None:
        raise DocsFailed(f"dbt docs generate could not run: {result.exception}")
    if not result.success or not static_index.is_file():
        errors = getattr(result.result, "errors", None) or []
        raise DocsFailed(
            "dbt docs generate failed"
            + (f": {len(errors)} errors reading the catalog" if errors else " (see dbt_logs in the warehouse)")
        )
    page = target_dir / DBT_DOCS_DIR / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(static_index, page)
    return page


def build_gx_data_docs(verdicts: Iterable[SuiteVerdict], target_dir: Path, run_name: str = "quality-gate") -> Path:
    """Render GX's Data Docs for the verdicts' scrubbed results into `target_dir/great_expectations/`.

    One page per suite, one per validation result and an index; returns the index's path. Verdicts GX
    did not make (the consent gate) have no result and are left out. The site is rebuilt from scratch.
    Raises DocsFailed when GX could not render a page (it logs the error and goes on).
    """
    from flows.quality.gate import _batch_definition, _validate_lock

    _batch_definition()  # GX imported under the gate's warning filter, and the gate's context made first
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.data_context import context_factory

    site = target_dir / GX_DOCS_DIR
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    # A context of its own, in memory like the gate's. GX makes the newest context the current one, so
    # the gate's is put back after, and no validation runs meanwhile.
    with _validate_lock:
        previous = context_factory.project_manager.get_current_project()
        context = context_factory.get_context(mode="ephemeral")
        try:
            n_results = _render(context, verdicts, site, run_id)
        finally:
            context_factory.set_context(previous)
    n_pages = len(list((site / "validations").rglob("*.html")))
    if n_pages != n_results:
        raise DocsFailed(f"Great Expectations rendered {n_pages} of {n_results} validation pages (see its log)")
    return site / "index.html"


def _render(context: Any, verdicts: Iterable[SuiteVerdict], site: Path, run_id: Any) -> int:
    """Put the suites and their scrubbed results in `context`'s stores and build its site in `site`;
    returns the number of results stored."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from flows.quality.gate import load_suite

    context.add_data_docs_site(
        _GX_SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    suites: set[str] = set()
    stored: set[tuple] = set()
    for verdict in verdicts:
        if verdict.validation_result is None:
            continue
        if verdict.suite not in suites:
            context.suites.add(load_suite(verdict.suite))
            suites.add(verdict.suite)
        # A copy through JSON: GX's loader fills in and changes what it is given.
        result = ExpectationSuiteValidationResultSchema().load(json.loads(json.dumps(verdict.validation_result)))
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=verdict.suite),
            run_id=run_id,
            batch_identifier=verdict.table,
        )
        context.validation_results_store.set(key, result)
        stored.add(key.to_tuple())
    context.build_data_docs(site_names=[_GX_SITE])
    return len(stored)


REPORT_NAME = "report.html"


def build_study_report(settings: Settings, target_dir: Path) -> Path:
    """The study report (flows/analysts/report.py) of the published file, as `target_dir/report.html`."""
    from flows.analysts.report import build_report
    from flows.analysts.source import connect, resolve

    source = resolve(settings)
    connection = connect(source)
    try:
        return build_report(connection, f"Figures from {source.describe()}.", target_dir / REPORT_NAME)
    finally:
        connection.close()
