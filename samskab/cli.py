"""`samskab`: the researchers' command line.

samskab sample [--scale N] [--survey-shape SHAPE]
                             write the synthetic embedded sample into the landing zone
samskab refresh [--force]    run the nightly refresh once, now (exit codes below); when nothing changed
                             since the last publish it says so and stops, unless --force
samskab status               what the published file holds, how fresh it is, and how the last runs ended
samskab rollback             put the previous published snapshot back (it holds until the inputs change)
samskab accept DELIVERY      load a delivery that lost most of its rows against its loaded version, as it is now
samskab serve [--port N]     start the Prefect server and UI on loopback and run the nightly schedule, until Ctrl-C
samskab registry fetch [TABLE ...]
                             ask Statbank for the declared tables (all, or those named) and land what changed
samskab sql [QUERY] [--csv] [--as-of DAY]
                             read-only SQL on the published file (or the snapshot of DAY): a shell, or one query
samskab export MART ...|--all --format parquet|csv|xlsx|sav|dta --to DIR [--as-of DAY]
                             marts as files for R, Excel, SPSS (labelled) and Stata (labelled)
samskab report [--as-of DAY] [--lang en]
                             open the study report (charts of every wave, in Danish), rebuilt by every publish
samskab snapshots            the dated snapshots kept of the published file

The exit codes of each command are listed in `samskab --help` (REFRESH_EXIT_CODES and the others below).

Everything heavy (Prefect, dbt, pandas) is imported inside the command that needs it: `samskab --help`
and `samskab status` answer in well under a second.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from samskab.analysts.commands import add_analyst_commands
from samskab.common.settings import Settings, SettingsError, get_settings, quiet_third_party_telemetry
from samskab.operate.pool_worker import add_worker_arguments
from samskab.operate.serve import add_serve_arguments, cmd_serve
from samskab.sample.survey_shapes import SHAPES

EXIT_PUBLISHED, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_NOT_STARTED, EXIT_NEEDS_ATTENTION, EXIT_STALE = 0, 1, 2, 3, 4, 5
HELP_WIDTH = 100  # the descriptions of the commands whose exit codes are listed as written
REFRESH_EXIT_CODES = """exit codes:
  0  published, every landing file loaded; or nothing had changed
  1  the run failed (its quality gate, or the disk) and nothing was published
  2  the command was given wrongly (an unknown option)
  3  the refresh could not start (another one runs, no pseudonym key, a setting out of range)
  4  published (or nothing changed), but landing files need attention: refused, not recognised, held
     back, or with too many rows rejected (named in the output, a notice and `samskab status`)"""
STATUS_EXIT_CODES = """exit codes:
  0  fresh, and the last run ended well
  1  nothing published, the last run failed or died, or the disk lacks the room a refresh needs
  4  the last publish left landing files needing attention
  5  the file is older than the freshness limit (SAMSKAB_FRESHNESS_HOURS, 26 by default)"""
OTHER_EXIT_CODES = """exit codes of the other commands: 0 done; 1 it could not be done (the output says why);
2 the command was given wrongly (an unknown option, mart, day, table or delivery), `sample` would have
overwritten real deliveries, or `rollback` would publish an older file and was not given --yes; 3 a setting
is out of its range, so nothing ran"""

STILL_NEEDS_ATTENTION = "Landing files STILL NEED ATTENTION (as found when they were last read):"
FIRST_QUERY = (
    "select region_name, sum(n_sector_areas_answering) as n_answering, "
    "sum(n_sector_areas_invited) as n_invited from municipality_profile group by all order by 1;"
)


def _prepare_environment() -> None:
    quiet_third_party_telemetry()
    # A fresh machine's temporary Prefect server can take longer than Prefect's default wait to start.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _shown(path: Path) -> str:
    """A path as the person at the terminal can use it: relative to where they stand when possible."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def command_as_typed() -> str:
    """The `samskab` command as a new shell here runs it: its name when the shell finds this one on its PATH
    (an activated environment), else its path (`.venv/bin/samskab` from the project's folder)."""
    installed = Path(sys.executable).with_name("samskab")
    if not installed.is_file():
        return "samskab"
    found = shutil.which("samskab")
    if found and Path(found).resolve() == installed.resolve():
        return "samskab"
    return _shown(installed)


def cmd_sample(args: argparse.Namespace) -> int:
    from samskab.ingest.landing import PLATFORM_FILES, landing_holds_only_the_sample, walk
    from samskab.sample.generate import generate_sample

    landing = get_settings().landing_dir
    files, links = walk(landing) if landing.is_dir() else ([], [])
    delivered = [path for path in files if path.name not in PLATFORM_FILES] + links
    if delivered and not landing_holds_only_the_sample(landing):
        print(f"{_shown(landing)} holds deliveries that are not the embedded sample; refusing to overwrite them.")
        return 2
    for folder in ("survey", "statbank", "cases"):
        shutil.rmtree(landing / folder, ignore_errors=True)
    landing.mkdir(parents=True, exist_ok=True)
    manifest = generate_sample(landing, scale=args.scale, seed=args.seed, survey_shape=args.survey_shape)
    print(f"Wrote the synthetic embedded sample (scale {args.scale}, seed {args.seed}) into {_shown(landing)}:")
    for path in manifest.files:
        print(f"  {path.relative_to(landing)}  ({path.stat().st_size:,} bytes)")
    return 0


def _precheck(settings: Settings) -> int | None:
    """Before starting Prefect: fetch the registry data and compare the inputs with the published file's.
    When nothing changed, record it in the run journal, say so and return the exit code; None when the
    refresh has work to do (or a dead run needs its Prefect flow run marked crashed, which the flow does)."""
    from samskab.ingest import statbank_api
    from samskab.operate import run_journal
    from samskab.operate.fingerprint import decide
    from samskab.operate.locking import RefreshAlreadyRunning, refresh_lock
    from samskab.publish import documented
    from samskab.publish import swap as publish

    if run_journal.dead_runs(settings):
        return None
    try:
        with refresh_lock(settings.lock_path):
            run_id = datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S")
            entry = run_journal.open_run(settings, run_id, run_journal.REFRESH)
            try:
                for result in statbank_api.fetch_registry(settings):
                    if result.state != statbank_api.UNCHANGED:
                        print(f"  {result.message}")
                cleaned = publish.recover_files(settings)
                decision = decide(settings)
            except BaseException:
                if entry.path is not None:
                    entry.path.unlink(missing_ok=True)  # the flow run records the refresh itself
                raise
            # The flow also builds the documentation of a file whose run was stopped after publishing.
            if decision.run or (decision.state == run_journal.UNCHANGED and documented.out_of_date(settings)):
                entry.path.unlink(missing_ok=True)
                if decision.reads_landing:
                    from samskab.ingest import reading

                    reading.start_early()  # the readers' imports beside Prefect's start
                return None
            attention = run_journal.close_nothing_to_do(settings, entry, decision, cleaned)
    except (RefreshAlreadyRunning, run_journal.RunNotRecorded) as error:
        print(error)
        return EXIT_NOT_STARTED
    for line in cleaned:
        print(line)
    print(decision.message)
    print(f"  Published file: {_shown(settings.published_path)}")
    if not attention:
        return EXIT_PUBLISHED
    from samskab.operate import notices

    _print_attention(STILL_NEEDS_ATTENTION, attention)
    notices.send_attention_notice(
        settings, f"Refresh {entry.run_id}", "nothing changed, and landing files still need attention", attention
    )
    return EXIT_NEEDS_ATTENTION


def _print_attention(headline: str, attention: list[str]) -> None:
    print(f"\n{headline}")
    for line in attention:
        print(f"  {line}")
    print(
        "  Correct or remove these files (deliver a new version, or move one into landing/withdrawn/); "
        "`samskab status` names them until then."
    )


def _serve(args: argparse.Namespace) -> int:
    """`samskab serve`, its documentation server also answering /snapshots/ with the snapshots' reports."""
    from samskab.analysts.snapshot_reports import PREFIX, SnapshotPages

    return cmd_serve(args, {PREFIX: SnapshotPages(get_settings())})


@contextlib.contextmanager
def _prefect_server(settings: Settings) -> Iterator[str]:
    """Where this refresh's flow run is recorded: the server `samskab serve` runs for this lake, else the
    team's (SAMSKAB_PREFECT_API_URL), else the one Prefect is configured with, else a private server on
    loopback that stops with this command (and dies with it when the command is killed: no server is ever
    left behind)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from samskab.operate.prefect_server import refresh_server, running_server_url

    if running_server_url(settings.data_lake) is None and settings.prefect_api_url:
        with temporary_settings(updates={PREFECT_API_URL: settings.prefect_api_url}):
            yield settings.prefect_api_url.removesuffix("/api")
        return
    if running_server_url(settings.data_lake) is None and PREFECT_API_URL.value():
        yield ""
        return
    with refresh_server(settings.data_lake) as url:
        yield url.removesuffix("/api")


def cmd_refresh(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not args.force:
        print("Looking for changes since the last publish ...")
        code = _precheck(settings)
        if code is not None:
            return code
    from samskab.gate.worker import GateWorker

    # The run will build: Great Expectations' import starts now in its own process, beside Prefect's start.
    with GateWorker.early():
        return _refresh(settings, args)


def _refresh(settings: Settings, args: argparse.Namespace) -> int:
    from flows.nightly_refresh import nightly_refresh
    from samskab.build.dbt import parse_in_background
    from samskab.common.failures import ReportedFailure
    from samskab.gate.verdict import QualityGateFailed
    from samskab.ingest.pseudonyms import MissingPseudonymKey
    from samskab.operate.locking import RefreshAlreadyRunning
    from samskab.operate.run_journal import PUBLISHED, RunNotRecorded

    try:
        parse_in_background(settings)  # dbt's import and parse, in a thread, beside Prefect's start
        with _prefect_server(settings) as where:
            if where:
                print(f"The run reports to the Prefect server at {where}.")
            report = nightly_refresh(force=args.force)
    except (RefreshAlreadyRunning, MissingPseudonymKey, RunNotRecorded) as error:
        print(error)
        return EXIT_NOT_STARTED
    except QualityGateFailed as error:
        print("\nThe refresh FAILED its quality gate. Nothing was published; analysts keep the previous file.")
        print(error)
        return EXIT_GATE_FAILED
    except ReportedFailure as error:
        print("\nThe refresh FAILED. Nothing was published; analysts keep the previous file.")
        print(error)
        return EXIT_GATE_FAILED
    published = _shown(settings.published_path)
    for line in report.cleaned_up:
        print(line)
    if report.outcome != PUBLISHED:
        print(report.verdict)
        print(f"  Published file: {published}")
        if report.needing_attention:
            _print_attention(STILL_NEEDS_ATTENTION, report.needing_attention)
            return EXIT_NEEDS_ATTENTION
        return EXIT_PUBLISHED
    if report.needing_attention:
        print("\nThe refresh passed its quality gate and was published,")
        _print_attention("but NOT EVERYTHING in the landing zone was read:", report.needing_attention)
    else:
        print("\nThe refresh passed its quality gate and was published.")
    print(f"  Published file: {published}")
    for load in report.loads:
        print(f"  {load.describe()}")
        for note in load.notes:
            print(f"    note: {note}")
    for withdrawal in report.ingest.withdrawals:
        print(f"  {withdrawal.describe()}")
    print(f"  Gate: {report.verdict}")
    print("  Tables: " + ", ".join(f"{table} ({n:,} rows)" for table, n in report.row_counts.items()))
    samskab = command_as_typed()
    print("\nA first query (read-only; docs/cookbook.md has the study's questions answered in SQL):")
    print(f'  {samskab} sql "{FIRST_QUERY}"')
    print(f'  (or open {published} read-only from Python, R or DBeaver: README.md, "Every morning")')
    print("The study report with its charts:")
    print(f"  {samskab} report")
    print("Exports for SPSS, Stata, Excel and R:")
    print(f"  {samskab} export --help")
    return EXIT_NEEDS_ATTENTION if report.needing_attention else EXIT_PUBLISHED


def _published_meta(path: Path) -> dict | None:
    """The published file's lineage (DuckDB alone, no pandas: status must answer at once)."""
    import duckdb

    connection = duckdb.connect(str(path), read_only=True)
    try:
        run = connection.execute(
            "select run_id, flow_run_name, finished_at, code_version, verdict from meta.runs"
        ).fetchone()
        files = connection.execute(
            "select source, file, sha256, n_rows, n_rejected from meta.input_files order by source, file"
        ).fetchall()
        counts = connection.execute("select table_name, n_rows from meta.row_counts order by 1").fetchall()
    finally:
        connection.close()
    return {"run": run, "files": files, "counts": counts}


def describe_published(path: Path, meta: dict | None = None) -> str:
    """The published file's lineage in words."""
    if not path.exists():
        return f"Nothing is published yet at {_shown(path)}. Run `samskab refresh`."
    meta = meta or _published_meta(path)
    run_id, run_name, finished_at, code_version, verdict = meta["run"]
    lines = [
        f"{_shown(path)}",
        f"  built {finished_at:%Y-%m-%d %H:%M} UTC by flow run {run_name} ({run_id})",
        f"  from code version {code_version}",
        f"  quality gate: {verdict}",
        f"  from {len(meta['files'])} input files:",
        *[
            f"    {source:<9} {file}  sha256 {sha256[:12]}…  {n_rows:,} rows, {n_rejected} rejected"
            for source, file, sha256, n_rows, n_rejected in meta["files"]
        ],
        "  tables: " + ", ".join(f"{table} ({n:,} rows)" for table, n in meta["counts"]),
    ]
    return "\n".join(lines)


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "?"


def _hours_since(moment: datetime, now: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (now - moment).total_seconds() / 3600


def _retention_warnings(settings: Settings, now: datetime) -> list[str]:
    """Landing originals with names or e-mails whose retention ends soon (or has ended: the next refresh
    takes them out), for `samskab status`."""
    if settings.originals_retention_days <= 0 or not settings.warehouse_path.is_file():
        return []  # before any import: status stays light (tests/operate/test_run_journal.py)
    import duckdb

    from samskab.ingest import retention

    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
            due = retention.due_soon(settings, connection, now)
    except duckdb.Error:  # a refresh holds the warehouse: it retires what is due itself
        return ["(Retention of landing originals not checked: a refresh is using the warehouse.)"]
    if not due:
        return []
    where = retention.destination(settings)
    lines = [
        f"Retention: {len(due)} landing original(s) with names or e-mails in clear reach their "
        f"{settings.originals_retention_days} days within {settings.originals_retention_warn_days} days; the "
        f"refresh after that day takes each out of the landing zone ({where}), keeping its pseudonymised rows:"
    ]
    return lines + [f"  {original.describe()}" for original in due]


def describe_status(settings: Settings, now: datetime | None = None) -> tuple[str, int]:
    """What `samskab status` prints, and its exit code: the published file, its freshness, and the truth
    about the last runs from the run journal (a run whose record was never closed died)."""
    from samskab.operate import disk, run_journal
    from samskab.publish import swap as publish

    now = now or datetime.now(UTC)
    entries = run_journal.read_runs(settings)
    meta = _published_meta(settings.published_path) if settings.published_path.exists() else None
    published_id = str(meta["run"][0]) if meta else ""
    lines: list[str] = []
    code = EXIT_PUBLISHED

    refreshes = [entry for entry in entries if entry.kind == run_journal.REFRESH]
    last = refreshes[-1] if refreshes else None
    if last is None:
        lines.append("No refresh has run yet." if meta is None else "The run journal holds no refresh yet.")
    elif last.is_open and run_journal.is_alive(last):
        lines.append(f"A refresh is running now: {last.flow_run_name}, started {_when(last.started_at)}.")
    elif last.is_open or last.state == run_journal.DIED:
        built_it = published_id == last.run_id
        lines.append(
            f"Last refresh: {last.flow_run_name}, started {_when(last.started_at)}, DID NOT FINISH: it stopped "
            "before recording its end (killed, the machine stopped, or its disk was full)."
        )
        lines.append(
            "  It had already published the file below (its gate passed)."
            if built_it
            else "  It published nothing: analysts read the file below, from an earlier run."
        )
        code = EXIT_GATE_FAILED
    else:
        lines.append(f"Last refresh: {last.flow_run_name}, {_when(last.finished_at)}: {last.state}.")
        lines += [f"  {line}" for line in last.verdict.splitlines()]
        if last.state == run_journal.FAILED:
            code = EXIT_GATE_FAILED
        if last.attention:
            lines.append(
                f"Needs attention: {len(last.attention)} landing files or deliveries were refused, not recognised, "
                "held back, or had too many rows rejected:"
            )
            lines += [f"  {line}" for line in last.attention]
            code = code or EXIT_NEEDS_ATTENTION
        lines += [f"  ({note})" for note in last.noted]

    rollbacks = [entry for entry in entries if entry.kind == run_journal.ROLLBACK]
    if rollbacks and rollbacks[-1].is_open and not run_journal.is_alive(rollbacks[-1]):
        lines.append(
            f"A rollback started {_when(rollbacks[-1].started_at)} did not finish; the next `samskab rollback` "
            "or refresh completes or undoes it."
        )
    erasures = [entry for entry in entries if entry.kind == run_journal.ERASE]
    if erasures and erasures[-1].is_open and not run_journal.is_alive(erasures[-1]):
        lines.append(
            f"AN ERASURE started {_when(erasures[-1].started_at)} DID NOT FINISH: the person may still be in the "
            "published file or a snapshot. The next refresh (`samskab refresh`) finishes it and builds the file again."
        )
        code = code or EXIT_NEEDS_ATTENTION
    hold = publish.read_hold(settings)
    if hold:
        lines.append(
            f"Rolled back at {_when(hold.get('rolled_back_at', ''))} to {hold.get('rolled_back_to')}: the refresh "
            "keeps it published until a delivery, the code or the reference data changes (or `--force`)."
        )

    lines += _retention_warnings(settings, now)
    short = disk.shortage(settings)
    if short:
        lines.append(f"WARNING: THE DISK IS NEARLY FULL. {short}")
        code = EXIT_GATE_FAILED
    if meta is None:
        lines.append(describe_published(settings.published_path))
        return "\n".join(lines), EXIT_GATE_FAILED
    built = meta["run"][2]
    confirmed = [
        entry
        for entry in refreshes
        if entry.state in (run_journal.PUBLISHED, run_journal.UNCHANGED, run_journal.HELD)
        and entry.published_run_id == published_id
    ]
    # A run that found nothing changed confirms the published file as much as the run that built it.
    latest_good = min(
        [_hours_since(built, now), *[_hours_since(datetime.fromisoformat(e.finished_at), now) for e in confirmed]]
    )
    if latest_good > settings.freshness_hours:
        lines.append(
            f"WARNING: STALE. The last successful refresh was {latest_good:.0f} hours ago (more than "
            f"{settings.freshness_hours:g}): the nightly refresh has not run, or has not passed, since."
        )
        code = code if code == EXIT_GATE_FAILED else EXIT_STALE
    built_at = built.replace(tzinfo=UTC) if built.tzinfo is None else built
    dead = {id(entry) for entry in refreshes if entry.is_open and not run_journal.is_alive(entry)}
    since = [
        entry
        for entry in refreshes
        if entry.started_at >= built_at.isoformat(timespec="seconds")
        and (entry.state in (run_journal.FAILED, run_journal.DIED) or id(entry) in dead)
    ]
    if since:
        lines.append(f"Runs that failed since the file was built ({len(since)}):")
        for entry in since:
            why = entry.headline if entry.state != run_journal.RUNNING else "did not finish (its process is gone)"
            lines.append(f"  {_when(entry.started_at)} {entry.flow_run_name}: {why}")
    lines.append("Analysts read:")
    lines.append(describe_published(settings.published_path, meta))
    lines.append(_describe_snapshots(settings))
    return "\n".join(lines), code


def _describe_snapshots(settings: Settings) -> str:
    from samskab.publish import snapshots

    kept = snapshots.listed(settings)
    if not kept:
        return "  snapshots: none kept yet (each publish keeps one)"
    return (
        f"  snapshots: {len(kept)} kept, {kept[0].published_at:%Y-%m-%d} to {kept[-1].published_at:%Y-%m-%d} "
        f"(Danish time; kept {settings.snapshot_retention_days} nights): read one with `samskab sql --as-of DAY`"
    )


def cmd_status(args: argparse.Namespace) -> int:
    text, code = describe_status(get_settings())
    print(text)
    return code


def _age(finished_at: datetime | None) -> str:
    """How long ago a file's run finished (its `meta.runs`, in UTC), in words."""
    if finished_at is None:
        return "of unknown age"
    then = finished_at.replace(tzinfo=UTC) if finished_at.tzinfo is None else finished_at
    hours = (datetime.now(UTC) - then).total_seconds() / 3600
    return f"{hours:.0f} hours old" if hours < 48 else f"{hours / 24:.0f} days old"


def cmd_rollback(args: argparse.Namespace) -> int:
    from samskab.operate import run_journal
    from samskab.operate.fingerprint import fingerprint
    from samskab.operate.locking import RefreshAlreadyRunning, refresh_lock
    from samskab.publish import swap as publish

    settings = get_settings()
    try:
        with refresh_lock(settings.lock_path):
            target_file = publish.rollback_target(settings)
            before = publish.run_of(settings.published_path)
            target = publish.run_of(target_file) if target_file is not None else None
            if before is not None and target is not None:
                print(
                    f"The rollback publishes the file of run {target[0]}, built {publish.when_built(target[1])} "
                    f"({_age(target[1])}), in place of the file of run {before[0]}, built "
                    f"{publish.when_built(before[1])} ({_age(before[1])})."
                )
                older = None not in (target[1], before[1]) and target[1] < before[1]
                if older and not args.yes:
                    print(
                        "Analysts would read the older file until the inputs change (a failed refresh never "
                        "replaced the file it failed to publish). Nothing was changed; to roll back, run "
                        "`samskab rollback --yes`."
                    )
                    return EXIT_USAGE
            run_id = datetime.now(UTC).strftime("rollback-%Y%m%dT%H%M%S")
            entry = run_journal.open_run(settings, run_id, run_journal.ROLLBACK)
            outcome = publish.rollback(settings)
            after = publish.published_run(settings.published_path)
            if outcome.changed and after is not None:
                publish.write_hold(
                    settings,
                    fingerprint(settings).digest,
                    rolled_back_to=f"run {after[0]} (built {after[1]})",
                    rolled_away=f"run {before[0]} (built {before[1]})" if before else "",
                )
            run_journal.close_run(
                settings,
                entry,
                run_journal.ROLLED_BACK if outcome.changed else run_journal.NOTHING_TO_ROLL_BACK,
                outcome.message,
                published_run_id=after[0] if after else "",
            )
    except (RefreshAlreadyRunning, run_journal.RunNotRecorded) as error:
        print(error)
        return 1
    print(outcome.message)
    if not outcome.changed:
        return 1
    _rollback_into_history(settings)
    print(
        "The rollback holds: the nightly refresh will not publish the rolled-away inputs again until a delivery, "
        "the code or the reference data changes. `samskab refresh --force` publishes the current inputs now."
    )
    print(describe_published(settings.published_path))
    return 0


def _rollback_into_history(settings: Settings) -> None:
    """A rollback changes what analysts read: the shared history (if configured) gets the file put back as
    its newest snapshot, so `--as-of` today reads it there too."""
    from samskab.publish import history
    from samskab.publish import swap as publish

    if not history.configured(settings):
        return
    run = publish.published_run(settings.published_path)
    try:
        committed = history.commit(settings, settings.published_path, run[0], datetime.now(UTC), "rollback")
    except history.HistoryUnavailable as error:
        print(f"{error} The rollback holds; the shared history still ends with the rolled-away file.")
        return
    print(f"The shared history holds the file put back as its snapshot {committed.version}.")


def _worker(args: argparse.Namespace) -> int:
    from samskab.operate.pool_worker import cmd_worker

    return cmd_worker(args)


def cmd_registry_fetch(args: argparse.Namespace) -> int:
    from samskab.ingest.statbank_api import FAILED, fetch_registry

    settings = get_settings()
    where = "the recorded answers beside the lake" if settings.statbank_api == "recorded" else settings.statbank_api
    print(f"Asking Statbank ({where}) for the declared tables (dbt_project/seeds/statbank_tables.csv):")
    try:
        results = fetch_registry(settings, names=args.tables or None)
    except ValueError as error:  # an unknown table name, or a line of the seed that does not read
        print(error)
        return 2
    for result in results:
        print(f"  {result.message}")
    failed = [result for result in results if result.state == FAILED]
    if failed:
        print("The next refresh reads what has landed; the tables above that failed keep their earlier answers.")
    return 1 if failed else 0


def cmd_accept(args: argparse.Namespace) -> int:
    """Accept a delivery that shrank against its loaded version, as its files are now."""
    from samskab.ingest import decisions
    from samskab.ingest.deliveries import delivery_hashes, landing_inventory

    settings = get_settings()
    name = args.delivery.strip("/")
    found = [delivery for delivery in landing_inventory(settings).deliveries if delivery.name == name]
    if not found:
        print(
            f"No delivery named {name} is in the landing zone. Name it as the refresh does, for example "
            "survey/samskabelse_2016 (the names are in `samskab status` and the refresh's output)."
        )
        return 2
    hashes = delivery_hashes(settings, found[0])
    decisions.accept(settings, name, hashes)
    print(
        f"Accepted {name} as its {len(hashes)} file(s) are now: the next refresh loads it in place of its loaded "
        "version. A later change to its files needs a decision of its own."
    )
    return EXIT_PUBLISHED


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase a respondent or an informant everywhere the platform keeps them, then build the file again."""
    import duckdb

    from samskab.ingest import erasure as raw_erasure
    from samskab.ingest.pseudonyms import MissingPseudonymKey, Pseudonymiser, resolve_pseudonym_key
    from samskab.operate import erasure
    from samskab.operate.locking import RefreshAlreadyRunning

    settings = get_settings()
    if args.list and not settings.warehouse_path.is_file():
        print("0 erasure(s) on record: nothing has been read into this data lake yet.")
        return EXIT_PUBLISHED
    if args.list:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
            done = raw_erasure.erasures(connection)
        print(f"{len(done)} erasure(s) on record (by pseudonym, never by name):")
        for erasure_id, when, kind, pseudonyms, n_rows in done:
            print(f"  {when:%Y-%m-%d %H:%M} UTC  {erasure_id}  {kind}  {n_rows:,} raw rows  {pseudonyms}")
        return EXIT_PUBLISHED
    try:
        pseudonymise = Pseudonymiser(resolve_pseudonym_key(settings)[0])
        if args.informant:
            person = raw_erasure.informant_by_name(pseudonymise, args.informant)
        elif args.respondent:
            person = raw_erasure.respondent_by_id(args.respondent, args.export)
        else:
            person = raw_erasure.respondent_by_identity(pseudonymise, args.name, args.email)
    except (MissingPseudonymKey, ValueError) as error:
        print(error)
        return EXIT_USAGE
    try:
        outcome = erasure.run(settings, person, pseudonymise, args.dry_run)
    except RefreshAlreadyRunning as error:
        print(error)
        return EXIT_NOT_STARTED
    for line in erasure.described(settings, outcome, args.dry_run):
        print(line)
    if args.dry_run:
        print("Dry run: nothing was changed. Run the same command without --dry-run to erase.")
        return EXIT_PUBLISHED
    if outcome.erasure_id is None:
        for line in erasure.forget_history(settings):  # an earlier erasure's, if the catalog did not answer then
            print(line)
        print(
            "Nobody matched, so nothing was erased or put on the suppression list. Name the person as the export "
            "or the case register types them (name, e-mail, or the export's respondent id)."
        )
        return EXIT_GATE_FAILED
    print(
        f"Erasure {outcome.erasure_id} is recorded by pseudonym and date (`samskab erase --list`); the person is "
        "on the suppression list, so a re-delivered export never brings them back. The originals in the "
        "landing zone (and in retired_originals/, if retention moved any) still hold them in clear: remove "
        "them there."
    )
    print("Building the published file again from the raw layer, without them ...")
    code = cmd_refresh(argparse.Namespace(force=True))
    erasure.compact(settings)
    for line in erasure.forget_history(settings):
        print(line)
    erasure.close(settings, outcome, code)
    return code


def main(argv: list[str] | None = None) -> int:
    _prepare_environment()
    parser = argparse.ArgumentParser(
        prog="samskab",
        description="The samskabelse research data platform. `samskab COMMAND --help` says more of each command.",
        epilog=f"samskab refresh {REFRESH_EXIT_CODES}\n\nsamskab status {STATUS_EXIT_CODES}\n\n{OTHER_EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser(
        "sample",
        help="write the synthetic embedded sample into the landing zone",
        description="Write the synthetic embedded sample into the landing zone: two survey waves, Statbank's "
        "recorded answers and a case register, all made up, for trying the platform. It refuses to overwrite "
        "real deliveries.",
    )
    sample.add_argument(
        "--scale",
        type=int,
        default=1,
        help="1: the study (two survey waves); more: re-exports of wave 1, for benchmarks",
    )
    sample.add_argument("--seed", type=int, default=2016)
    sample.add_argument(
        "--survey-shape",
        default="surveyxact-utf16",
        choices=list(SHAPES),
        metavar="SHAPE",
        help="the shape of the survey export (default surveyxact-utf16): " + ", ".join(SHAPES),
    )
    sample.set_defaults(handler=cmd_sample)
    refresh = commands.add_parser(
        "refresh",
        help="run the nightly refresh once, now",
        description=textwrap.fill(
            "Run the nightly refresh once, now: read what landed, check it, build the marts and publish them "
            "if every blocking check passes. When nothing changed since the last publish it says so and stops, "
            "unless --force.",
            HELP_WIDTH,
        ),
        epilog=REFRESH_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    refresh.add_argument(
        "--force", action="store_true", help="run every stage even when nothing changed since the last publish"
    )
    refresh.set_defaults(handler=cmd_refresh)
    commands.add_parser(
        "status",
        help="how fresh the published file is, how the last runs ended, what it holds",
        description=textwrap.fill(
            "How fresh the published file is, how the last runs ended, what it holds, and which landing files "
            "need attention.",
            HELP_WIDTH,
        ),
        epilog=STATUS_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).set_defaults(handler=cmd_status)
    rollback = commands.add_parser(
        "rollback",
        help="publish the previous snapshot again (holds until the inputs change)",
        description="Publish the previous published file again, when the last one is wrong. It stays published "
        "until the inputs change (or `samskab refresh --force`). It names both files first, and publishes an "
        "older file only with --yes.",
    )
    rollback.add_argument("--yes", action="store_true", help="publish the previous file even though it is older")
    rollback.set_defaults(handler=cmd_rollback)
    serve = commands.add_parser(
        "serve",
        help="start the Prefect server and UI, and run the nightly schedule, until Ctrl-C",
        description="Start the Prefect server and its UI on loopback, and run the nightly refresh on its "
        "schedule (prefect.yaml), until Ctrl-C.",
    )
    add_serve_arguments(serve)
    serve.set_defaults(handler=_serve)
    worker = commands.add_parser(
        "worker",
        help="team mode: run the nightly refresh's runs a team's Prefect server hands out, until Ctrl-C",
        description='Team mode (README "Past one machine"): take the runs of the nightly deployment\'s work pool '
        "from the team's Prefect server (SAMSKAB_PREFECT_API_URL) and run each here, in this copy of the project, "
        "on this machine's data lake. A run it started goes on to its end when it is stopped.",
    )
    add_worker_arguments(worker)
    worker.set_defaults(handler=_worker)
    registry = commands.add_parser(
        "registry",
        help="public registry data (Statistics Denmark's Statbank)",
        description="Public registry data: the Statbank tables declared in dbt_project/seeds/statbank_tables.csv.",
    )
    registry_commands = registry.add_subparsers(dest="registry_command", required=True)
    fetch = registry_commands.add_parser(
        "fetch",
        help="ask Statbank for the declared tables and land every changed answer with its request",
        description="Ask Statbank for the declared tables (all, or those named) and land every answer that "
        "changed, with its request, in the landing zone. The refresh does this itself every night.",
    )
    fetch.add_argument("tables", nargs="*", metavar="TABLE", help="tables to fetch (default: every declared table)")
    fetch.set_defaults(handler=cmd_registry_fetch)
    accept = commands.add_parser(
        "accept",
        help="load a delivery that lost most of its rows against its loaded version, as it is now",
        description="Load a delivery that lost most of its rows against its loaded version, as it is now: the "
        "refresh holds such a delivery back until a researcher says it is right.",
    )
    accept.add_argument("delivery", help="the delivery as the refresh names it, e.g. survey/samskabelse_2016")
    accept.set_defaults(handler=cmd_accept)
    erase = commands.add_parser(
        "erase",
        help="erase a respondent or an informant from raw, the published file and every snapshot",
        description=textwrap.fill(
            "Erase a person who withdrew consent or asked to be erased: a respondent (by the export's "
            "respondent id, or by name and/or e-mail as the export types them) or an informant (by name as the "
            "case register types it). They are removed from the raw layer, the published file, the file kept "
            "for a rollback and every snapshot, and put on a suppression list (by pseudonym) so a re-delivered "
            "export never brings them back; then the refresh builds the published file again. --dry-run says "
            "what would change.",
            HELP_WIDTH,
        ),
        epilog=OTHER_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    erase.add_argument("--respondent", metavar="ID", help="the respondent id the survey export gives")
    erase.add_argument("--export", metavar="EXPORT_ID", help="with --respondent: only in this export")
    erase.add_argument("--name", help="the respondent's name, as typed in the export")
    erase.add_argument("--email", help="the respondent's e-mail, as typed in the export")
    erase.add_argument("--informant", metavar="NAME", help="an informant's name, as the case register types it")
    erase.add_argument("--dry-run", action="store_true", help="say what would be removed; change nothing")
    erase.add_argument("--list", action="store_true", help="list the erasures made, by pseudonym and date")
    erase.set_defaults(handler=cmd_erase)
    add_analyst_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:  # a setting out of its range or of the wrong kind: nothing ran
        print(error, file=sys.stderr)
        return EXIT_NOT_STARTED
    finally:
        if argv is None:  # the `samskab` command, a process of its own: it exits next
            # Its objects (dbt's manifest, Prefect's, Great Expectations') are left to the exit instead of
            # collected one by one first: measured after a refresh, the exit took 1.1 s before, 0.1 s after.
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
