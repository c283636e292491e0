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
from pydantic import SecretStr

from flows import ingest, lineage, publish, statbank_api, transform
from flows.landing import NEEDS_ATTENTION, REFUSED, Delivery, Inventory
from flows.locking import refresh_lock
from flows.pseudonyms import Pseudonymiser, resolve_pseudonym_key
from flows.raw_store import LoadSummary, Withdrawal
from flows.settings import Settings, get_settings

PSEUDONYM_SECRET_BLOCK = "samskab-pseudonym-key"
PUBLISHED_NAME = "published/analytics.duckdb"  # in the data lake; logs never name a path of the server
# The final state of a run that published while some landing files were refused or not recognised.
NEEDS_ATTENTION_STATE = "Published, needs attention"


class QualityGateFailed(RuntimeError):
    """The run's data did not pass the gate; nothing was published."""


FIX_DELIVERY = (
    "Next: correct the delivery named above (deliver a new version, never edit the old one) and run "
    "`samskab refresh` again."
)
FIX_INPUTS = (
    "Next: compare the landing files with those the published file was built from (`samskab status` "
    "lists them); deliver a corrected version and run `samskab refresh` again."
)


def _gate_failed(what: str, details: str, next_step: str) -> QualityGateFailed:
    return QualityGateFailed(f"{what}\n{details}\nAnalysts keep the file published before this run. {next_step}")


@dataclass
class RefreshReport:
    """What a run did, for the CLI's closing words and for tests."""

    run_id: str
    ingest: ingest.IngestReport = field(default_factory=ingest.IngestReport)
    verdict: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def loads(self) -> list[LoadSummary]:
        return self.ingest.loads

    @property
    def needing_attention(self) -> list[str]:
        """Refused deliveries and refused or unrecognised files: the run published, but not everything."""
        return self.ingest.needing_attention()


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
def survey_landing_task(settings: Settings) -> tuple[Inventory, bool]:
    """Prepare the raw layer and list every delivery in the landing zone, and every file that is none."""
    rebuilt = ingest.prepare_raw_layer(settings)
    logger = get_run_logger()
    if rebuilt:
        logger.warning(
            "The raw layer's layout changed with this version of the platform: every delivery is read again "
            "from the landing zone."
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
    return inventory, rebuilt


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
    return withdrawals


@task(name="check raw data", cache_policy=NO_CACHE)
def check_raw_task(settings: Settings) -> pd.DataFrame:
    """Great Expectations on the raw layer, and the case register's consent gate, before dbt; raises if a
    blocking check fails."""
    from flows.quality.consent import consent_verdict
    from flows.quality.gate import describe_failures
    from flows.quality.stages import checks_frame, describe_deliveries, validate_stage

    verdicts = validate_stage("raw", settings.warehouse_path)
    consent, without_consent = consent_verdict(settings.warehouse_path)
    verdicts.append(consent)
    _report_verdicts("raw", verdicts)
    if not all(verdict.passed for verdict in verdicts):
        named = "".join(f"\n  {line}" for line in without_consent)
        raise _gate_failed(
            "Raw data failed blocking checks; nothing was built or published.",
            describe_failures(verdicts) + named + "\n" + describe_deliveries(settings.warehouse_path, verdicts),
            FIX_DELIVERY,
        )
    return checks_frame("raw", verdicts)


@task(name="build marts with dbt", cache_policy=NO_CACHE)
def build_marts_task(settings: Settings) -> transform.DbtOutcome:
    """One in-process `dbt build` (models and dbt tests); raises if any model or test failed."""
    outcome = transform.build_marts(settings)
    logger = get_run_logger()
    logger.info(outcome.describe())
    for warning in outcome.warnings:
        logger.warning(warning)
    if not outcome.success:
        raise _gate_failed("dbt build failed; nothing was published.", "\n".join(outcome.failures), FIX_INPUTS)
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
def check_marts_task(settings: Settings, candidate: publish.Candidate) -> pd.DataFrame:
    """Great Expectations on the candidate's marts, and the drift of its shares from the published file's
    (warnings); discards the candidate and raises on a blocking failure."""
    from flows.quality.drift import drift_verdicts
    from flows.quality.gate import describe_failures
    from flows.quality.stages import checks_frame, validate_stage

    verdicts = validate_stage("marts", candidate.path)
    verdicts += drift_verdicts(candidate.path, settings.published_path, settings.drift_threshold)
    _report_verdicts("marts", verdicts)
    if not all(verdict.passed for verdict in verdicts):
        publish.discard(candidate.path)
        raise _gate_failed(
            "Marts failed blocking checks; the published file is unchanged.", describe_failures(verdicts), FIX_INPUTS
        )
    return checks_frame("marts", verdicts)


@task(name="publish analytics file", cache_policy=NO_CACHE)
def publish_task(settings: Settings, candidate: publish.Candidate, meta: dict[str, pd.DataFrame]) -> str:
    """Write lineage into the candidate and swap it in atomically; returns the published path."""
    publish.write_meta(candidate.path, meta)
    path = publish.swap_in(settings, candidate)
    get_run_logger().info(
        "Published %s in the data lake%s",
        PUBLISHED_NAME,
        " (the previous snapshot is kept for `samskab rollback`)" if settings.previous_path.exists() else "",
    )
    return str(path)


def _report_verdicts(stage: str, verdicts) -> None:
    logger = get_run_logger()
    rows = []
    for verdict in verdicts:
        for outcome in verdict.outcomes:
            rows.append(
                {
                    "suite": verdict.suite,
                    "table": verdict.table,
                    "check": outcome.check,
                    "column": outcome.column or "",
                    "severity": outcome.severity,
                    "result": "passed" if outcome.success else "FAILED",
                    "observed": outcome.observed,
                }
            )
            if not outcome.success:
                log = logger.error if outcome.severity == "blocking" else logger.warning
                log(
                    "%s check failed on %s%s: %s (%s)",
                    outcome.severity.capitalize(),
                    verdict.table,
                    f".{outcome.column}" if outcome.column else "",
                    outcome.description,
                    outcome.observed,
                )
        logger.info(
            "Suite %s on %s (%d rows): %s",
            verdict.suite,
            verdict.table,
            verdict.n_rows,
            "passed" if verdict.passed else "FAILED",
        )
    create_table_artifact(
        key=f"quality-{stage}",
        table=rows,
        description=f"Great Expectations checks on the {stage} layer (counts only, no values)",
    )


def _landing_artifact(report: ingest.IngestReport) -> None:
    rows = [
        {
            "file": row.file,
            "source": row.source or "",
            "delivery": row.delivery or "",
            "state": row.state,
            "reason": row.reason,
        }
        for row in report.landing_files()
    ]
    create_table_artifact(
        key="landing-files", table=rows, description="Every file in the landing zone and what became of it"
    )
    loads = [
        {
            "source": load.source,
            "delivery": load.delivery,
            "status": {"unchanged": "unchanged, skipped"}.get(load.state, load.state),
            "rows loaded": sum(load.rows.values()),
            "rows rejected": load.n_rejected if load.state != REFUSED else 0,
            "first reject": load.rejects[0] if load.rejects else "",
        }
        for load in report.loads
    ]
    create_table_artifact(key="loads", table=loads, description="What this run loaded and rejected, per delivery")


@flow(name="nightly_refresh", log_prints=True)
def nightly_refresh() -> RefreshReport:
    """Refresh the analysts' DuckDB file from everything in the landing zone.

    Returns a report of what was loaded, the gate's verdict and the published tables. Raises
    QualityGateFailed (the run ends Failed) when a blocking check fails; then nothing is published.
    When the run published but some deliveries were refused or some files not recognised, it ends in
    the Completed state "Published, needs attention", naming them, so it never looks like a clean run.
    """
    settings = _with_key_from_prefect_secret(get_settings())
    run_id = str(flow_run.get_id() or datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S"))
    run_name = str(flow_run.get_name() or run_id)
    key, is_demo_key = resolve_pseudonym_key(settings)  # fail before touching anything when there is no key
    if is_demo_key:
        get_run_logger().warning("Pseudonyms use the published DEMO key: fine for the synthetic embedded sample only.")
    with refresh_lock(settings.lock_path):
        report = RefreshReport(run_id=run_id)
        try:
            report.ingest = _ingest(settings, run_id, Pseudonymiser(key))
            _build_and_publish(settings, run_name, report)
        except Exception as error:
            lineage.write_last_refresh(
                settings, run_id, run_name, passed=False, verdict=f"FAILED: {error}", attention=report.needing_attention
            )
            raise
        lineage.write_last_refresh(
            settings, run_id, run_name, passed=True, verdict=report.verdict, attention=report.needing_attention
        )
    if report.needing_attention:
        return Completed(
            name=NEEDS_ATTENTION_STATE,
            message=f"Published, but {len(report.needing_attention)} landing files need attention: "
            + "; ".join(report.needing_attention[:5]),
            data=report,
        )
    return report


def _ingest(settings: Settings, run_id: str, pseudonymise: Pseudonymiser) -> ingest.IngestReport:
    fetch_registry_task(settings)
    inventory, rebuilt = survey_landing_task(settings)
    loads = [ingest_delivery_task(settings, run_id, delivery, pseudonymise) for delivery in inventory.deliveries]
    withdrawals = withdraw_task(settings, run_id, inventory, loads)
    report = ingest.IngestReport(loads, inventory.findings, withdrawals, rebuilt)
    _landing_artifact(report)
    return report


def _build_and_publish(settings: Settings, run_name: str, report: RefreshReport) -> None:
    started_at = datetime.now(UTC).replace(tzinfo=None)
    raw_checks = check_raw_task(settings)
    dbt_outcome = build_marts_task(settings)
    candidate = build_candidate_task(settings, report.run_id)
    mart_checks = check_marts_task(settings, candidate)

    quality = pd.concat([raw_checks, mart_checks], ignore_index=True)
    n_met = int(quality["success"].sum())
    verdict = (
        f"PASSED: all {dbt_outcome.n_tests_passed} dbt tests "
        f"and {n_met} of {len(quality)} Great Expectations checks met"
    )
    if n_met < len(quality):
        verdict += f"; {len(quality) - n_met} warning checks not met (see meta.quality_checks)"
    if report.needing_attention:
        verdict += f"; but {len(report.needing_attention)} landing files need attention (refused or not recognised)"
    checks = pd.concat([quality, _dbt_checks(dbt_outcome)], ignore_index=True)
    run = lineage.RunRecord(
        run_id=report.run_id,
        flow_run_name=run_name,
        started_at=started_at,
        finished_at=datetime.now(UTC).replace(tzinfo=None),
        code_version=lineage.code_version(),
        gate_passed=True,
        verdict=verdict,
    )
    meta = lineage.meta_tables(
        run, lineage.warehouse_lineage(settings), report.ingest.landing_files(), candidate.row_counts, checks
    )
    publish_task(settings, candidate, meta)
    report.verdict, report.row_counts = verdict, candidate.row_counts
    create_markdown_artifact(
        key="refresh-summary",
        markdown=_summary_markdown(report),
        description="What last night's refresh published",
    )
    get_run_logger().info("Quality gate %s. Published %s in the data lake.", verdict, PUBLISHED_NAME)


def _with_key_from_prefect_secret(settings: Settings) -> Settings:
    """Without SAMSKAB_PSEUDONYM_KEY in the environment, take the key from the Prefect Secret block
    `samskab-pseudonym-key` when the server has one (how a scheduled deployment gets it)."""
    if settings.pseudonym_key is not None and settings.pseudonym_key.get_secret_value():
        return settings
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(PSEUDONYM_SECRET_BLOCK)
    except ValueError:  # no such block on this server
        return settings
    return settings.model_copy(update={"pseudonym_key": SecretStr(str(secret.get()))})


def _dbt_checks(outcome: transform.DbtOutcome) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stage": "dbt",
                "suite": "dbt build",
                "table_name": None,
                "n_rows": None,
                "check_name": "dbt tests",
                "column_name": None,
                "severity": "blocking",
                "success": outcome.success,
                "observed": f"{outcome.n_tests_passed} tests passed",
                "description": "Every dbt model built and every dbt test passed",
            }
        ]
    )


def _summary_markdown(report: RefreshReport) -> str:
    lines = [f"# Nightly refresh {report.run_id}", "", f"**Gate:** {report.verdict}", ""]
    if report.needing_attention:
        lines += ["**Needs attention** (the rest was published):", ""]
        lines += [f"- {line}" for line in report.needing_attention]
        lines += [""]
    lines += [f"**Published:** `{PUBLISHED_NAME}` in the data lake", "", "| table | rows |", "| --- | --- |"]
    lines += [f"| {table} | {n:,} |" for table, n in report.row_counts.items()]
    lines += ["", "| delivery | state | loaded | rejected |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {load.delivery} | {load.state} | {sum(load.rows.values())} | {load.n_rejected} |" for load in report.loads
    ]
    notes = [f"- {load.delivery}: {note}" for load in report.loads for note in load.notes]
    if notes:
        lines += ["", "**Notes on deliveries:**", "", *notes]
    return "\n".join(lines)
