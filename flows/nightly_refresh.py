"""The nightly refresh: registry fetch -> landing -> raw -> dbt marts -> quality gate -> atomic publish.

The flow only orchestrates: every step is a plain function in its own module, wrapped here in a task
named for what a researcher would call it. A run that fails any blocking check publishes nothing and
ends Failed, naming the failed checks; the analysts' file stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed

from samskab.build import dbt as transform
from samskab.common import failures, processes
from samskab.common.progress import Progress
from samskab.common.settings import Settings, get_settings
from samskab.gate import verdict as gate_verdict
from samskab.gate.stages import checks_frame
from samskab.gate.suites import BLOCKING
from samskab.gate.worker import GateWorker, raw_verdicts
from samskab.ingest import deliveries as ingest
from samskab.ingest import retention, statbank_api
from samskab.ingest.erasure import compact_warehouse
from samskab.ingest.landing import (
    NEEDS_ATTENTION,
    REFUSED,
    UNCHANGED,
    Delivery,
    Inventory,
    landing_holds_only_the_sample,
)
from samskab.ingest.pseudonyms import Pseudonymiser, resolve_pseudonym_key
from samskab.ingest.raw_store import KEY_CHANGED, LAYOUT_CHANGED, LoadSummary, Withdrawal
from samskab.operate import disk, erasure, notices, prefect_runs, prefect_server, run_journal
from samskab.operate.fingerprint import Decision, decide
from samskab.operate.locking import refresh_lock
from samskab.publish import documented, history, lineage, summary
from samskab.publish import swap as publish

# The final state of a run that published while some landing files were refused or not recognised.
NEEDS_ATTENTION_STATE = "Published, needs attention"
# The final states of a run that had nothing to do; with ATTENTION_SUFFIX while files still need attention.
UNCHANGED_STATE = "Unchanged"
HELD_STATE = "Held after rollback"
ATTENTION_SUFFIX = ", needs attention"
# The tag of a flow run that left landing files needing attention, so the UI can list those runs.
ATTENTION_TAG = "needs-attention"


@dataclass
class RefreshReport:
    """What a run did, for the CLI's closing words and for tests."""

    run_id: str
    ingest: ingest.IngestReport = field(default_factory=ingest.IngestReport)
    verdict: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    # run_journal.PUBLISHED, or UNCHANGED / HELD when there was nothing to do (then `verdict` says why).
    outcome: str = ""
    cleaned_up: list[str] = field(default_factory=list)
    row_changes: list[dict] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)

    @property
    def loads(self) -> list[LoadSummary]:
        return self.ingest.loads

    # On a night with nothing to do: what the last run with the same inputs found needing attention.
    carried_attention: list[str] = field(default_factory=list)

    @property
    def needing_attention(self) -> list[str]:
        """Refused deliveries, refused or unrecognised files, deliveries with too many rejected rows: the
        run published (or kept the file), but not everything in the landing zone made it."""
        return self.ingest.needing_attention() or self.carried_attention


def _log_load(load: LoadSummary) -> None:
    logger = get_run_logger()
    (logger.error if load.state == REFUSED else logger.info)(load.describe())
    for note in load.notes:
        logger.warning(note)
    if load.state == REFUSED:
        return
    for reject in load.rejects[:20]:
        logger.warning("Rejected %s", reject)
    if len(load.rejects) > 20:
        logger.warning(
            "... and %d more; every rejected row is listed in raw.rejected_rows "
            "and, once published, in meta.rejected_rows",
            len(load.rejects) - 20,
        )


@task(name="clean up after interrupted runs", cache_policy=NO_CACHE)
def recover_task(settings: Settings, run_id: str) -> tuple[list[str], bool]:
    """Finish what killed runs left: close their journal records as died, mark their Prefect flow runs
    Crashed, finish or undo an interrupted rollback, finish an interrupted erasure, and remove half-built
    candidate files. Returns what was done, in words, and whether an erasure needs the file built again."""
    logger = get_run_logger()
    cleaned = publish.recover_files(settings)
    rebuild = False
    for dead in run_journal.dead_runs(settings):
        if dead.run_id == run_id:
            continue
        marked = prefect_runs.mark_crashed(dead.flow_run_id) if dead.kind == run_journal.REFRESH else ""
        if dead.kind == run_journal.ERASE:
            finished, needs_build = erasure.finish_interrupted(settings, dead)
            cleaned += finished
            rebuild = rebuild or needs_build
        run_journal.close_dead_run(settings, dead, run_id, cleaned)
        logger.warning(
            "Run %s (started %s) died before recording its end%s.", dead.flow_run_name, dead.started_at, marked
        )
    for line in cleaned:
        logger.warning(line)
    return cleaned, rebuild


@task(name="look for changes", cache_policy=NO_CACHE)
def decide_task(settings: Settings, force: bool) -> Decision:
    """Compare the landing zone, code, reference data and settings with those of the published file."""
    decision = decide(settings, force)
    get_run_logger().info(decision.message)
    return decision


@task(name="fetch registry data", cache_policy=NO_CACHE)
def fetch_registry_task(settings: Settings) -> list[statbank_api.FetchResult]:
    """Ask Statbank for the declared tables and land what changed; a table that fails is named, and the
    refresh goes on with what landed before (it never depends on the network being up)."""
    logger = get_run_logger()
    results = statbank_api.fetch_registry(settings)
    for result in results:
        (logger.warning if result.state == statbank_api.FAILED else logger.info)(result.message)
    create_table_artifact(
        key="registry-fetch",
        table=[
            {"table": result.table_id, "state": result.state, "files": ", ".join(result.files), "what": result.message}
            for result in results
        ],
        description="What Statbank answered for each declared table (dbt_project/seeds/statbank_tables.csv)",
    )
    return results


@task(name="survey the landing zone", cache_policy=NO_CACHE)
def survey_landing_task(settings: Settings, key_fingerprint: str) -> tuple[Inventory, bool]:
    """Prepare the raw layer for pseudonyms of the run's key, and list every delivery in the landing zone,
    and every file that is none."""
    rebuilt = ingest.prepare_raw_layer(settings, key_fingerprint)
    logger = get_run_logger()
    if rebuilt == LAYOUT_CHANGED:
        logger.warning(
            "The raw layer's layout changed with this version of the platform: every delivery is read again "
            "from the landing zone."
        )
    elif rebuilt == KEY_CHANGED:
        logger.warning(
            "The pseudonym key is not the one the raw layer was made with: every delivery is read again from "
            "the landing zone under this key, so no file holds pseudonyms of two keys."
        )
    inventory = ingest.landing_inventory(settings)
    logger.info(
        "Found %d deliveries: %s", len(inventory.deliveries), ", ".join(d.name for d in inventory.deliveries) or "none"
    )
    for finding in inventory.findings:
        if finding.state in NEEDS_ATTENTION:
            logger.error("%s %s: %s", finding.state.upper(), finding.path, finding.reason)
        else:
            logger.info("%s %s: %s", finding.state.capitalize(), finding.path, finding.reason)
    return inventory, rebuilt is not None


@task(name="ingest delivery", task_run_name="ingest {delivery.name}", cache_policy=NO_CACHE)
def ingest_delivery_task(
    settings: Settings, run_id: str, delivery: Delivery, pseudonymise: Pseudonymiser
) -> LoadSummary:
    """Load one delivery into raw (identifiers pseudonymised on the way in), or refuse it with its reason."""
    load = ingest.ingest_delivery(settings, run_id, delivery, pseudonymise)
    _log_load(load)
    return load


@task(name="withdraw removed deliveries", cache_policy=NO_CACHE)
def withdraw_task(settings: Settings, run_id: str, inventory: Inventory, loads: list[LoadSummary]) -> list[Withdrawal]:
    """Take out of raw the rows of deliveries that left the landing zone; returns what was withdrawn."""
    withdrawals = ingest.withdraw_removed(settings, run_id, inventory, loads)
    for withdrawal in withdrawals:
        get_run_logger().warning(withdrawal.describe())
    where = retention.destination(settings)
    for original in ingest.retire_originals(settings, run_id):
        get_run_logger().info(
            "Retention: %s was taken out of the landing zone (%s): its names and e-mails are past their "
            "%d days; its pseudonymised rows stay in raw and its sha256 in the ledger.",
            original.describe(),
            where,
            settings.originals_retention_days,
        )
    return withdrawals


@task(name="review what landed", cache_policy=NO_CACHE)
def review_raw_task(settings: Settings) -> ingest.Review:
    """Check across deliveries once all are in raw: survey exports held back from a wave they may not
    count for, and deliveries that rejected more of their rows than the limit. Both need attention
    until put right, like a refused file."""
    review = ingest.review_raw_layer(settings)
    logger = get_run_logger()
    for hold in review.holds:
        logger.error(hold.describe())
    for rejection in review.rejections:
        logger.error("Too many rows rejected in %s", rejection.describe())
    return review


@task(name="check raw data", cache_policy=NO_CACHE)
def check_raw_task(settings: Settings, gate: GateWorker | None = None) -> list:
    """Great Expectations on the raw layer, and the case register's consent gate, before dbt (in the run's
    Great Expectations process when it has one); raises if a blocking check fails."""
    from samskab.gate.stages import describe_deliveries
    from samskab.gate.suites import describe_failures

    log = get_run_logger().info
    if gate is not None:
        verdicts, without_consent = gate.run("raw", settings.warehouse_path, log=log)
    else:
        verdicts, without_consent = raw_verdicts(settings.warehouse_path, log)
    _report_verdicts("raw", verdicts)
    if not all(verdict.passed for verdict in verdicts):
        named = "".join(f"\n  {line}" for line in without_consent)
        raise gate_verdict.gate_failed(
            "Raw data failed blocking checks; nothing was built or published.",
            describe_failures(verdicts) + named + "\n" + describe_deliveries(settings.warehouse_path, verdicts),
            gate_verdict.FIX_DELIVERY,
        )
    return verdicts


@task(name="build marts with dbt", cache_policy=NO_CACHE)
def build_marts_task(settings: Settings, run_id: str, force: bool) -> transform.DbtOutcome:
    """One in-process `dbt build` (models and dbt tests) of what changed since the last build, or of
    everything when forced; raises if any model or test failed."""
    outcome = transform.build_marts(settings, run_id, force, progress_log=get_run_logger().info)
    create_table_artifact(
        key="dbt-nodes",
        table=outcome.node_rows(),
        description="Every node of this run's dbt build: seed, model or test, its status, seconds and severity "
        "(failing row counts only, never a row)",
    )
    logger = get_run_logger()
    logger.info(outcome.describe())
    for warning in outcome.warnings:
        logger.warning(warning)
    if outcome.machine_cause is not None:  # the disk or the memory, not the data: no input to correct
        raise failures.machine_failure(outcome.machine_cause, "building the marts with dbt")
    if not outcome.success:
        raise gate_verdict.gate_failed(
            "dbt build failed; nothing was published.", "\n".join(outcome.failures), gate_verdict.FIX_INPUTS
        )
    return outcome


@task(name="build candidate analytics file", cache_policy=NO_CACHE)
def build_candidate_task(settings: Settings, run_id: str) -> publish.Candidate:
    """Copy the marts into a new file beside the published one; returns it, not yet published."""
    candidate = publish.build_candidate(settings, run_id)
    get_run_logger().info(
        "Built candidate file with %s", ", ".join(f"{table} ({n:,} rows)" for table, n in candidate.row_counts.items())
    )
    return candidate


@task(name="check marts", cache_policy=NO_CACHE)
def check_marts_task(settings: Settings, candidate: publish.Candidate, gate: GateWorker | None = None) -> list:
    """Drift of the candidate from the file analysts read now (Great Expectations suites drift_row_counts
    and drift_shares): a mart emptied blocks, a row count or share moving more than its bound warns.
    Discards the candidate and raises on a blocking failure. (The marts' structure is dbt's to test.)"""
    from samskab.gate.drift import drift_verdicts
    from samskab.gate.suites import describe_failures

    compared = (candidate.path, settings.published_path, settings.drift_threshold)
    verdicts = gate.run("drift", *compared) if gate is not None else drift_verdicts(*compared)
    _report_verdicts("marts", verdicts)
    if not all(verdict.passed for verdict in verdicts):
        publish.discard(candidate.path)
        raise gate_verdict.gate_failed(
            "Marts failed blocking checks; the published file is unchanged.",
            describe_failures(verdicts),
            gate_verdict.FIX_INPUTS,
        )
    return verdicts


@task(name="publish analytics file", cache_policy=NO_CACHE)
def publish_task(settings: Settings, candidate: publish.Candidate, meta: dict[str, pd.DataFrame]) -> str:
    """Write lineage and the file's own documentation (comments, data dictionary, value labels) into the
    candidate, keep its dated snapshot and swap it in atomically; returns the published path."""
    from samskab.publish import catalog, snapshots

    logger = get_run_logger()
    publish.write_meta(candidate.path, meta)
    documented = catalog.document(settings, candidate.path, landing_holds_only_the_sample(settings.landing_dir))
    logger.info(
        "Documented %d tables and %d columns (comments and meta.data_dictionary).",
        documented.n_tables,
        documented.n_columns,
    )
    if documented.undocumented:
        logger.warning(
            "%d published tables or columns have no description, so no comment: %s. Describe them in the "
            "marts' YAML (dbt_project/models/marts/) or in samskab/publish/meta_descriptions.py.",
            len(documented.undocumented),
            ", ".join(documented.undocumented),
        )
    for problem in documented.unknown_codebooks:
        logger.warning("%s, which meta.value_labels does not hold: its codes have no value labels.", problem)
    path = publish.swap_in(settings, candidate)
    snapshot = snapshots.for_run(settings, candidate.run_id)
    logger.info(
        "Published %s in the data lake, kept as the %s (published/snapshots)%s",
        summary.PUBLISHED_NAME,
        snapshot.label if snapshot else "snapshot",
        "; the previous file is kept for `samskab rollback`" if settings.previous_path.exists() else "",
    )
    return str(path)


def _report_verdicts(stage: str, verdicts: list) -> None:
    logger = get_run_logger()
    for severity, line in gate_verdict.failed_check_lines(verdicts):
        (logger.error if severity == BLOCKING else logger.warning)(line)
    for checked in verdicts:
        logger.info(gate_verdict.suite_line(checked))
    create_table_artifact(
        key=f"quality-{stage}",
        table=gate_verdict.verdict_rows(verdicts),
        description="Great Expectations checks "
        + ("on the raw deliveries" if stage == "raw" else "of drift from the file analysts read now")
        + " (counts only, no values)",
    )


def _landing_artifact(report: ingest.IngestReport) -> None:
    create_table_artifact(
        key="landing-files",
        table=report.landing_rows(),
        description="Every file in the landing zone and what became of it",
    )
    create_table_artifact(
        key="loads", table=report.load_rows(), description="What this run loaded and rejected, per delivery"
    )


@flow(name="nightly_refresh", log_prints=True)
def nightly_refresh(force: bool = False) -> RefreshReport:
    """Refresh the analysts' DuckDB file from everything in the landing zone.

    Returns a report of what was loaded, the gate's verdict and the published tables. Raises
    QualityGateFailed (the run ends Failed) when a blocking check fails; then nothing is published.
    When the run published but some deliveries were refused or some files not recognised, it ends in
    the Completed state "Published, needs attention", naming them, so it never looks like a clean run.
    When nothing changed since the last publish (or since a rollback), it ends "Unchanged" (or "Held
    after rollback") within seconds, without dbt or the gate; `force=True` runs every stage anyway.
    Every run is recorded in the run journal before it starts and when it ends (samskab/operate/run_journal.py).
    """
    processes.end_with_serve()  # run by `samskab serve`: never outlive it
    settings = prefect_runs.with_key_from_prefect_secret(get_settings())
    prefect_runs.tracebacks_to_debug_log(settings)  # a failure is told as its message; the frames go there
    flow_run_id = str(flow_run.get_id() or "")
    run_id = flow_run_id or datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S")
    run_name = str(flow_run.get_name() or run_id)
    short = disk.shortage(settings)
    if short:  # before anything is written: the journal and the lock file need room too
        get_run_logger().error(short)
        notices.send_notice(settings, f"Refresh {run_name} did not start: the disk is nearly full", short)
        raise failures.StorageFailure(short)
    with refresh_lock(settings.lock_path):
        entry = run_journal.open_run(settings, run_id, run_journal.REFRESH, run_name, flow_run_id)
        report = RefreshReport(run_id=run_id)
        try:
            key, is_demo_key = resolve_pseudonym_key(settings)  # before reading anything: no key, no run
            if is_demo_key:
                get_run_logger().warning(
                    "Pseudonyms use the published DEMO key: fine for the synthetic embedded sample only."
                )
            report.cleaned_up, erasure_unfinished = recover_task(settings, run_id)
            force = force or erasure_unfinished  # an erasure finished here: the file is built again
            fetch_registry_task(settings)
            decision = decide_task(settings, force)
            if not decision.run:
                return _nothing_to_do(settings, entry, report, decision)
            # Great Expectations' import and dbt's parse of the project, on the other core and in a thread,
            # while this thread reads the landing zone: both are ready when the gate and the build need them.
            transform.parse_in_background(settings)
            with GateWorker.for_run() as gate:
                report.ingest = _ingest(settings, run_id, Pseudonymiser(key))
                _build_and_publish(settings, run_name, report, decision, force, gate)
            if erasure_unfinished:  # no freed block of the warehouse keeps the marts' rows built with the person
                compact_warehouse(settings.warehouse_path)
        except Exception as error:
            try:
                _record_failure(settings, entry, report, error)
            except Exception as second:  # never hide why the run stopped behind why its record could not be kept
                get_run_logger().error("The failure could not be recorded or sent: %s", failures.describe(second))
            machine = None
            if not isinstance(error, failures.ReportedFailure):
                machine = failures.as_machine_failure(error, "writing to the data lake")
            if machine is not None:
                raise machine from error
            raise
        recorded = run_journal.close_run(
            settings,
            entry,
            run_journal.PUBLISHED,
            report.verdict,
            published_run_id=run_id,
            inputs_fingerprint=decision.fingerprint.digest,
            attention=report.needing_attention,
            noted=report.cleaned_up,
        )
        if not recorded:
            get_run_logger().error(
                "The file was published, but the run journal could not record this run's end (is the disk full?): "
                "`samskab status` will say the run did not finish, and name the published file's run."
            )
    report.outcome = run_journal.PUBLISHED
    if report.needing_attention:
        _call_attention(settings, entry, "published the file, but not everything in the landing zone", report)
        return Completed(
            name=NEEDS_ATTENTION_STATE,
            message=f"Published, but {len(report.needing_attention)} landing files need attention: "
            + "; ".join(report.needing_attention[:5]),
            data=report,
        )
    return report


def _nothing_to_do(settings: Settings, entry: run_journal.RunEntry, report: RefreshReport, decision: Decision):
    undocumented = documented.out_of_date(settings) if decision.state == run_journal.UNCHANGED else None
    if undocumented:  # its run was stopped after the swap: the pages beside the file are of another run
        get_run_logger().warning(
            "The documentation beside the published file is not of its run %s (that run was stopped after "
            "publishing): building it again.",
            undocumented,
        )
        try:
            report.docs = build_docs_task(settings, undocumented, recheck_task(settings), undocumented)
        except Exception as error:  # documentation never fails a run: the next night tries again
            get_run_logger().error("The documentation could not be built again: %s", failures.describe(error))
        else:
            report.cleaned_up.append(f"Built the documentation of the published file's run {undocumented} again.")
    report.carried_attention = run_journal.close_nothing_to_do(settings, entry, decision, report.cleaned_up)
    report.outcome, report.verdict = decision.state, decision.message
    name = HELD_STATE if decision.state == run_journal.HELD else UNCHANGED_STATE
    message = decision.message
    if report.needing_attention:
        _call_attention(settings, entry, "nothing changed, and landing files still need attention", report)
        name += ATTENTION_SUFFIX
        message = (
            f"{len(report.needing_attention)} landing files still need attention: "
            + "; ".join(report.needing_attention[:5])
            + f". {decision.message}"
        )
    create_markdown_artifact(
        key="refresh-summary",
        markdown=summary.nothing_to_do_summary(report.run_id, report.verdict, report.needing_attention),
        description="What last night's refresh did",
    )
    return Completed(name=name, message=message, data=report)


def _call_attention(settings: Settings, entry: run_journal.RunEntry, outcome: str, report: RefreshReport) -> None:
    """Every night that leaves landing files needing attention says so: a notice, and a tag on the flow run."""
    logger = get_run_logger()
    for line in report.needing_attention:
        logger.error("Needs attention: %s", line)
    undelivered = notices.send_attention_notice(
        settings, f"Run {entry.flow_run_name} ({entry.run_id})", outcome, report.needing_attention
    )
    if undelivered:
        logger.error("The notice could not be sent to: %s", ", ".join(undelivered))
    if entry.flow_run_id:
        try:
            prefect_runs.tag_flow_run(entry.flow_run_id, ATTENTION_TAG)
        except Exception as error:  # a tag is a convenience: the state's name and the notice say it already
            logger.warning("The flow run could not be tagged %s: %s", ATTENTION_TAG, failures.describe(error))


def _record_failure(settings: Settings, entry: run_journal.RunEntry, report: RefreshReport, error: Exception) -> None:
    """Close the journal record as failed and send the notice; the words come from samskab.common.failures,
    so no cell value reaches status or a notice."""
    failed = "FAILED: " + failures.describe(error)
    published = publish.published_run(settings.published_path)
    run_journal.close_run(
        settings,
        entry,
        run_journal.FAILED,
        failed,
        published_run_id=published[0] if published else "",
        attention=report.needing_attention,
        noted=report.cleaned_up,
    )
    undelivered = notices.send_failure_notice(
        settings, f"{entry.flow_run_name} ({entry.run_id})", entry.started_at, failed, published
    )
    if undelivered:
        get_run_logger().error("The failure notice could not be sent to: %s", ", ".join(undelivered))


def _ingest(settings: Settings, run_id: str, pseudonymise: Pseudonymiser) -> ingest.IngestReport:
    with ingest.written_once(settings):
        inventory, rebuilt = survey_landing_task(settings, pseudonymise.key_fingerprint)
        loads = []
        sizes = [
            sum(path.stat().st_size for path in delivery.files if path.is_file()) for delivery in inventory.deliveries
        ]
        megabytes = [max(round(size / 1e6), 1) for size in sizes]
        with Progress("Ingest", sum(megabytes), "MB of deliveries", log=get_run_logger().info) as progress:
            for delivery, size in zip(inventory.deliveries, megabytes, strict=True):
                # A task (in the UI, with its log) for each delivery that is read; the rest are listed below.
                load = ingest.unchanged(settings, delivery)
                loads.append(load or ingest_delivery_task(settings, run_id, delivery, pseudonymise))
                progress.advance(size, note=delivery.name)
        kept = [load.delivery for load in loads if load.state == UNCHANGED]
        if kept:
            get_run_logger().info("Unchanged since they were loaded (same sha256), not read again: %s", ", ".join(kept))
        withdrawals = withdraw_task(settings, run_id, inventory, loads)
        review = review_raw_task(settings)
    report = ingest.IngestReport(loads, inventory.findings, withdrawals, rebuilt, review)
    _landing_artifact(report)
    return report


def _build_and_publish(
    settings: Settings, run_name: str, report: RefreshReport, decision: Decision, force: bool, gate: GateWorker
) -> None:
    started_at = datetime.now(UTC).replace(tzinfo=None)
    raw_checked = check_raw_task(settings, gate)
    dbt_outcome = build_marts_task(settings, report.run_id, force)
    candidate = build_candidate_task(settings, report.run_id)
    mart_verdicts = check_marts_task(settings, candidate, gate)

    quality = pd.concat([checks_frame("raw", raw_checked), checks_frame("drift", mart_verdicts)], ignore_index=True)
    passed = gate_verdict.passed_verdict(dbt_outcome, quality, len(report.needing_attention))
    checks = pd.concat([quality, gate_verdict.dbt_checks(dbt_outcome)], ignore_index=True)
    before = publish.published_row_counts(settings.published_path)
    run = lineage.RunRecord(
        run_id=report.run_id,
        flow_run_name=run_name,
        started_at=started_at,
        finished_at=datetime.now(UTC).replace(tzinfo=None),
        code_version=lineage.code_version(),
        gate_passed=True,
        verdict=passed,
        inputs_fingerprint=decision.fingerprint.digest,
        inputs_parts=decision.fingerprint.parts(),
        pseudonym_key_fingerprint=lineage.raw_key_fingerprint(settings),
    )
    meta = lineage.meta_tables(
        run, lineage.warehouse_lineage(settings), report.ingest.landing_files(), candidate.row_counts, checks
    )
    publish_task(settings, candidate, meta)
    if history.configured(settings):
        history_task(settings, report.run_id, run_name)
    lifted = publish.lift_hold(settings)
    if lifted:
        get_run_logger().warning(lifted)
    report.verdict, report.row_counts = passed, candidate.row_counts
    report.row_changes = publish.row_changes(candidate.row_counts, before)
    create_table_artifact(
        key="row-counts",
        table=report.row_changes,
        description="Rows per published table, and the change since the file published before this run",
    )
    report.docs = build_docs_task(settings, run_name, raw_checked + mart_verdicts, report.run_id, gate)
    create_markdown_artifact(
        key="refresh-summary",
        markdown=summary.published_summary(
            report.run_id,
            report.verdict,
            report.needing_attention,
            report.docs,
            report.row_counts,
            report.row_changes,
            report.loads,
            settings.docs_dir,
            prefect_server.running_docs_url(settings.data_lake),  # `samskab serve` serves them, if it runs
        ),
        description="What last night's refresh published",
    )
    get_run_logger().info("Quality gate %s. Published %s in the data lake.", passed, summary.PUBLISHED_NAME)


@task(name="commit to the shared history", cache_policy=NO_CACHE)
def history_task(settings: Settings, run_id: str, run_name: str) -> None:
    """The published file's tables committed to the shared history as one DuckLake snapshot tagged with the
    run (samskab/publish/history.py). The file is published whatever happens here: a catalog that does not
    answer is told in the log and a notice, and the next publish commits again."""
    from samskab.publish import snapshots

    logger = get_run_logger()
    kept = snapshots.for_run(settings, run_id)  # dated as the file's own snapshot: when analysts got it
    try:
        committed = history.commit(
            settings, settings.published_path, run_id, kept.published_at if kept else datetime.now(UTC)
        )
    except history.HistoryUnavailable as error:
        logger.error("%s The published file is published; the next publish commits to the history again.", error)
        notices.send_notice(settings, f"Refresh {run_name}: the shared history did not take the publish", str(error))
        return
    logger.info(
        "Committed to the shared history as its snapshot %d: %d tables written, %d unchanged%s%s.",
        committed.version,
        len(committed.written),
        len(committed.kept),
        f", {len(committed.dropped)} dropped ({', '.join(committed.dropped)})" if committed.dropped else "",
        f"; {committed.expired} snapshots past the retention expired" if committed.expired else "",
    )


DBT_DOCS, DATA_DOCS, STUDY_REPORT = "dbt docs (lineage graph)", "Great Expectations Data Docs", "study report (charts)"
QUALITY_CHECKS = "quality checks (Data Docs, opens offline)"


@task(name="build documentation", cache_policy=NO_CACHE)
def build_docs_task(
    settings: Settings, run_name: str, verdicts: list, run_id: str, gate: GateWorker | None = None
) -> dict[str, str]:
    """dbt's static docs (the lineage graph), Great Expectations' Data Docs, the study report and the quality
    checks' own page (samskab/gate/validation_page.py) beside the published file (of run `run_id`), and last
    the record of which run they document. Returns the pages a researcher opens, by name: the report, dbt's
    docs and the quality checks' page, which stands in for Data Docs (their index needs a network for its
    scripts; the page links to it).
    The data is published by now: documentation that cannot be built is an error in the log, not a failed run."""
    from concurrent.futures import ThreadPoolExecutor

    from samskab.analysts.report import build_study_report
    from samskab.build.docs import build_dbt_docs
    from samskab.gate.data_docs import build_gx_data_docs
    from samskab.gate.validation_page import build_validation_page
    from samskab.publish.processing_record import build_processing_record

    logger = get_run_logger()

    def attempt(name: str, build) -> str | None:
        try:
            return str(build())
        except Exception as error:  # documentation never fails a published run
            logger.error("%s could not be built: %s", name, failures.describe(error))
            return None

    def data_docs():
        if gate is not None:
            return gate.run("data docs", verdicts, settings.docs_dir, run_name)
        return build_gx_data_docs(verdicts, settings.docs_dir, run_name)

    # Data Docs are drawn in Great Expectations' process while this one draws the other two.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-docs") as beside:
        drawn = beside.submit(attempt, DATA_DOCS, data_docs)
        lineage_graph = attempt(DBT_DOCS, lambda: build_dbt_docs(settings, settings.docs_dir))
        report = attempt(STUDY_REPORT, lambda: build_study_report(settings, settings.docs_dir))
        checks = attempt(QUALITY_CHECKS, lambda: build_validation_page(verdicts, settings.docs_dir, run_name))
        attempt("The record of processing", lambda: build_processing_record(settings, settings.docs_dir))
        drawn.result()  # built and logged, not linked: the quality checks' page links to it
        built = {STUDY_REPORT: report, DBT_DOCS: lineage_graph, QUALITY_CHECKS: checks}
    documented.record(settings, run_id)
    return {name: path for name, path in built.items() if path is not None}


@task(name="check again for the documentation", cache_policy=NO_CACHE)
def recheck_task(settings: Settings) -> list:
    """The published file's checks made again, for documentation its run did not finish: the raw layer it
    was built from (Great Expectations and the consent gate), and the file's drift from the one published
    before it. Nothing changed since that run, so they find what it found."""
    from samskab.gate.drift import drift_verdicts

    verdicts, _ = raw_verdicts(settings.warehouse_path, get_run_logger().info)
    if settings.previous_path.is_file():
        verdicts += drift_verdicts(settings.published_path, settings.previous_path, settings.drift_threshold)
    return verdicts
