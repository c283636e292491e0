"""The analysts' commands: `samskab sql`, `samskab export`, `samskab report`, `samskab snapshots`.

Each reads the published file, or with `--as-of DAY` the snapshot analysts had at the end of that day,
and says which one it read. Heavy imports (pandas, pyreadstat) happen inside the command that needs them:
`samskab sql` starts in well under a second.
"""

from __future__ import annotations

import argparse
import sys

from flows.settings import get_settings


def _source(args: argparse.Namespace):
    from flows.analysts.source import SourceMissing, parse_day, resolve

    try:
        day = parse_day(args.as_of) if args.as_of else None
        return resolve(get_settings(), day)
    except (SourceMissing, ValueError) as error:
        print(error, file=sys.stderr)
        return None


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar="DAY",
        help="read the snapshot analysts had at the end of DAY (YYYY-MM-DD, Danish time) instead of the published file",
    )


def cmd_sql(args: argparse.Namespace) -> int:
    from flows.analysts.sql import Shell, run_query

    source = _source(args)
    if source is None:
        return 2
    if args.query:
        return run_query(source, args.query, args.csv, args.max_rows, sys.stdout, sys.stderr)
    return Shell(source).run()


def cmd_snapshots(args: argparse.Namespace) -> int:
    from flows import snapshots
    from flows.analysts.tables import format_table

    settings = get_settings()
    kept = snapshots.listed(settings)
    if not kept:
        print("No snapshots are kept yet: each publish keeps one (published/snapshots in the data lake).")
        return 1
    rows = [
        (f"{snapshot.published_at:%Y-%m-%d %H:%M}", snapshot.run_prefix, f"{snapshot.path.stat().st_size / 1e6:.1f}")
        for snapshot in kept
    ]
    print(format_table(["published (Danish time)", "run", "MB"], rows))
    print(
        f"-- {len(kept)} snapshots, kept {settings.snapshot_retention_days} nights (SAMSKAB_SNAPSHOT_RETENTION_DAYS); "
        "read one with --as-of DAY"
    )
    return 0


def add_analyst_commands(commands: argparse._SubParsersAction) -> None:
    sql = commands.add_parser(
        "sql",
        help="read-only SQL on the published file: an interactive shell, or one query",
        description="Without QUERY: an interactive shell (history, Tab completes table and column names). "
        "With QUERY: print its result as a table, or CSV with --csv. Read-only: never blocks a refresh.",
    )
    sql.add_argument("query", nargs="?", metavar="QUERY", help='one query to run, e.g. "select * from motives"')
    sql.add_argument("--csv", action="store_true", help="print the result as CSV (the source line goes to stderr)")
    sql.add_argument(
        "--max-rows", type=int, default=200, help="rows printed as a table (default 200; 0 for all; CSV prints all)"
    )
    _add_as_of(sql)
    sql.set_defaults(handler=cmd_sql)
    listing = commands.add_parser("snapshots", help="the dated snapshots kept of the published file, for --as-of")
    listing.set_defaults(handler=cmd_snapshots)
