"""Great Expectations' Data Docs of the quality gate's verdicts: one page per suite and per result.

`build_gx_data_docs` renders GX's Data Docs from the results the gate kept, already scrubbed of every
cell value (`suites.scrub_validation_result`): pages show each check with its arguments (code sets from
the dbt seeds included), counts, and whole-table statistics only. It writes files only; GX's pages link
Bootstrap, jQuery and Font Awesome from public CDNs, which the reader's browser loads when a page is
opened (without them the pages are plain but readable).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from samskab.common.failures import DocsFailed
from samskab.gate.suites import SuiteVerdict, batch_definition, load_suite, validate_lock

GX_DOCS_DIR = "great_expectations"
_GX_SITE = "samskab_quality_gate"


def build_gx_data_docs(verdicts: Iterable[SuiteVerdict], target_dir: Path, run_name: str = "quality-gate") -> Path:
    """Render GX's Data Docs for the verdicts' scrubbed results into `target_dir/great_expectations/`.

    One page per suite, one per validation result and an index; returns the index's path. Verdicts GX
    did not make (the consent gate) have no result and are left out. The site is rebuilt from scratch.
    Raises DocsFailed when GX could not render a page (it logs the error and goes on).
    """
    batch_definition()  # GX imported under the gate's warning filter, and the gate's context made first
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.data_context import context_factory

    site = target_dir / GX_DOCS_DIR
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    # A context of its own, in memory like the gate's. GX makes the newest context the current one, so
    # the gate's is put back after, and no validation runs meanwhile.
    with validate_lock:
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
