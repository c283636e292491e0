"""`samskab`: the researchers' command line.

samskab sample [--scale N] [--survey-shape SHAPE]
                             write the synthetic embedded sample into the landing zone
samskab refresh              run the nightly refresh once, now (exit codes below)
samskab status               say what the published file holds, from its lineage
samskab rollback             put the previous published snapshot back
samskab registry fetch [TABLE ...]
                             ask Statbank for the declared tables (all, or those named) and land what changed

Exit codes of `samskab refresh`: 0 published, every landing file loaded; 1 the quality gate failed and
nothing was published; 3 the refresh could not start (another one runs, or no pseudonym key); 4 published,
but some deliveries were refused or some files not recognised (named in the output and `samskab status`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from flows.duckdb_files import read_only_frames
from flows.sample.survey_shapes import SHAPES
from flows.settings import get_settings, quiet_third_party_telemetry

EXIT_PUBLISHED, EXIT_GATE_FAILED, EXIT_NOT_STARTED, EXIT_NEEDS_ATTENTION = 0, 1, 3, 4

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


def cmd_sample(args: argparse.Namespace) -> int:
    from flows.landing import PLATFORM_FILES, walk
    from flows.sample.generate import generate_sample, landing_holds_only_the_sample

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


def cmd_refresh(args: argparse.Namespace) -> int:
    from flows.locking import RefreshAlreadyRunning
    from flows.nightly_refresh import QualityGateFailed, nightly_refresh
    from flows.pseudonyms import MissingPseudonymKey

    settings = get_settings()
    try:
        report = nightly_refresh()
    except (RefreshAlreadyRunning, MissingPseudonymKey) as error:
        print(error)
        return EXIT_NOT_STARTED
    except QualityGateFailed as error:
        print("\nThe refresh FAILED its quality gate. Nothing was published; analysts keep the previous file.")
        print(error)
        return EXIT_GATE_FAILED
    published = _shown(settings.published_path)
    if report.needing_attention:
        print("\nThe refresh passed its quality gate and was published,")
        print("but NOT EVERYTHING in the landing zone was read:")
        for line in report.needing_attention:
            print(f"  {line}")
        print("  Correct or remove these files (deliver a new version, or move one into landing/withdrawn/).")
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
    print("\nA first query to paste (DuckDB CLI, Python, R or DBeaver, read-only):")
    print(f"  duckdb -readonly {published}")
    print(f"  {FIRST_QUERY}")
    return EXIT_NEEDS_ATTENTION if report.needing_attention else EXIT_PUBLISHED


def describe_published(path: Path) -> str:
    """The published file's lineage in words."""
    if not path.exists():
        return f"Nothing is published yet at {_shown(path)}. Run `samskab refresh`."
    meta = read_only_frames(
        path,
        {
            "run": "select run_id, flow_run_name, finished_at, code_version, gate_passed, verdict from meta.runs",
            "files": "select source, file, sha256, n_rows, n_rejected from meta.input_files order by source, file",
            "counts": "select table_name, n_rows from meta.row_counts order by 1",
        },
    )
    run, files, counts = meta["run"].iloc[0], meta["files"], meta["counts"]
    lines = [
        f"{_shown(path)}",
        f"  built {run['finished_at']:%Y-%m-%d %H:%M} UTC by flow run {run['flow_run_name']} ({run['run_id']})",
        f"  from code version {run['code_version']}",
        f"  quality gate: {run['verdict']}",
        f"  from {len(files)} input files:",
        *[
            f"    {row.source:<9} {row.file}  sha256 {row.sha256[:12]}…  {row.n_rows:,} rows, {row.n_rejected} rejected"
            for row in files.itertuples()
        ],
        "  tables: " + ", ".join(f"{row.table_name} ({row.n_rows:,} rows)" for row in counts.itertuples()),
    ]
    return "\n".join(lines)


def describe_last_refresh(record: dict | None, has_published_file: bool) -> str:
    if record is None:
        return "No refresh has run yet."
    when = record["finished_at"][:16].replace("T", " ")
    text = f"Last refresh: {when} UTC, flow run {record['flow_run_name']}: {record['verdict'].splitlines()[0]}"
    if not record["passed"]:
        text += "\n" + "\n".join(f"  {line}" for line in record["verdict"].splitlines()[1:])
    attention = record.get("attention") or []
    if attention:
        text += f"\nNeeds attention: {len(attention)} landing files were refused or not recognised:"
        text += "\n" + "\n".join(f"  {line}" for line in attention)
    if not record["passed"] and has_published_file:
        text += "\nAnalysts still read the file published before it:"
    return text


def cmd_status(args: argparse.Namespace) -> int:
    from flows.lineage import read_last_refresh

    settings = get_settings()
    last = read_last_refresh(settings)
    print(describe_last_refresh(last, settings.published_path.exists()))
    print(describe_published(settings.published_path))
    if not settings.published_path.exists() or (last is not None and not last["passed"]):
        return EXIT_GATE_FAILED
    return EXIT_NEEDS_ATTENTION if last and last.get("attention") else EXIT_PUBLISHED


def cmd_rollback(args: argparse.Namespace) -> int:
    from flows.locking import RefreshAlreadyRunning, refresh_lock
    from flows.publish import rollback

    settings = get_settings()
    try:
        with refresh_lock(settings.lock_path):
            rollback(settings)
    except (FileNotFoundError, RefreshAlreadyRunning) as error:
        print(error)
        return 1
    print("Rolled back: the previous snapshot is published again.")
    print(describe_published(settings.published_path))
    return 0


def cmd_registry_fetch(args: argparse.Namespace) -> int:
    from flows.statbank_api import FAILED, fetch_registry

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


def main(argv: list[str] | None = None) -> int:
    _prepare_environment()
    parser = argparse.ArgumentParser(prog="samskab", description="The samskabelse research data platform.")
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="write the synthetic embedded sample into the landing zone")
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
    commands.add_parser("refresh", help="run the nightly refresh once, now").set_defaults(handler=cmd_refresh)
    commands.add_parser("status", help="what the published file holds").set_defaults(handler=cmd_status)
    commands.add_parser("rollback", help="publish the previous snapshot again").set_defaults(handler=cmd_rollback)
    registry = commands.add_parser("registry", help="public registry data (Statistics Denmark's Statbank)")
    registry_commands = registry.add_subparsers(dest="registry_command", required=True)
    fetch = registry_commands.add_parser(
        "fetch", help="ask Statbank for the declared tables and land every changed answer with its request"
    )
    fetch.add_argument("tables", nargs="*", metavar="TABLE", help="tables to fetch (default: every declared table)")
    fetch.set_defaults(handler=cmd_registry_fetch)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
