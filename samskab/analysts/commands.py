"""The analysts' commands: `samskab sql`, `samskab export`, `samskab report`, `samskab snapshots`.

Each reads the published file, or with `--as-of DAY` the snapshot analysts had at the end of that day,
and says which one it read. Heavy imports (pandas, pyreadstat) happen inside the command that needs them:
`samskab sql` starts in well under a second.
"""

from __future__ import annotations

import argparse
import functools
import sys

from samskab.common.settings import get_settings


def _source(args: argparse.Namespace):
    from samskab.analysts.source import SourceMissing, parse_day, resolve

    try:
        day = parse_day(args.as_of) if args.as_of else None
        return resolve(get_settings(), day)
    except (SourceMissing, ValueError) as error:
        print(error, file=sys.stderr)
        return None


def _reads(command):
    """A command that reads a source: one that cannot be opened (a snapshot of the shared history whose
    catalog does not answer) is told in a line, exit code 2, never a traceback."""

    @functools.wraps(command)
    def reading(args: argparse.Namespace) -> int:
        from samskab.analysts.source import SourceMissing

        try:
            return command(args)
        except SourceMissing as error:
            print(error, file=sys.stderr)
            return 2

    return reading


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar="DAY",
        help="read the snapshot analysts had at the end of DAY (YYYY-MM-DD, Danish time) instead of the published "
        "file (the shared history's, when SAMSKAB_DUCKLAKE_CATALOG is set)",
    )


@_reads
def cmd_sql(args: argparse.Namespace) -> int:
    from samskab.analysts.sql import Shell, run_query

    source = _source(args)
    if source is None:
        return 2
    if args.query:
        return run_query(source, args.query, args.csv, args.max_rows, sys.stdout, sys.stderr)
    from samskab.analysts.source import resolve

    return Shell(source, reopen=lambda: resolve(get_settings())).run()


@_reads
def cmd_report(args: argparse.Namespace) -> int:
    """Open the study report of the published file (rebuilt by every publish, in Danish), or draw one now: of
    a snapshot, in English, or when the published file's is not there."""
    import tempfile
    import webbrowser
    from pathlib import Path

    from samskab.analysts.report import REPORT_NAME, build_report
    from samskab.analysts.source import connect

    source = _source(args)
    if source is None:
        return 2
    settings = get_settings()
    path = settings.docs_dir / REPORT_NAME
    # The publish drew it in Danish; after a rollback (or when drawing failed) it is not the published file's.
    current = path.is_file() and bool(source.run_id) and source.run_id in path.read_text(encoding="utf-8")
    if args.as_of or args.lang != "da" or not current:
        folder = Path(args.to) if args.to else Path(tempfile.gettempdir())
        of = source.snapshot.path.stem if source.snapshot else "published"
        source, connection = connect(source)
        try:
            path = build_report(connection, source, folder / f"samskab-report-{of}-{args.lang}.html", args.lang)
        finally:
            connection.close()
    print(f"The study report of {source.describe()}:\n  {path}")
    if not args.no_open and not webbrowser.open(path.resolve().as_uri()):
        print("No browser could be started here: open the file above in one (it needs no network).")
    return 0


@_reads
def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from samskab.analysts.export import ExportRefused, export_tables
    from samskab.analysts.source import connect
    from samskab.common.progress import Progress

    source = _source(args)
    if source is None:
        return 2
    source, connection = connect(source, sandboxed=False)
    try:
        marts = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' order by table_name"
            ).fetchall()
        ]
        tables = marts if args.all else args.marts
        unknown = [table for table in tables if table not in marts]
        if not tables or unknown:
            print(
                (f"No mart named {', '.join(unknown)}. " if unknown else "Name a mart, or --all. ")
                + "The marts: "
                + ", ".join(marts),
                file=sys.stderr,
            )
            return 2
        out_dir = Path(args.to)
        print(f"Exporting {len(tables)} tables as {args.format} to {out_dir}, from {source.describe()}.")
        progress = Progress("Export", len(tables), "tables")
        try:
            exported = export_tables(
                connection,
                tables,
                args.format,
                out_dir,
                source.describe(),
                progress=lambda table, done, total: progress.advance(note=table),
            )
        except ExportRefused as refused:
            exported, refusal = refused.exported or [], str(refused)
        else:
            refusal = ""
        progress.finish()
    finally:
        connection.close()
    for item in exported:
        print(f"  {item.path}  ({item.n_rows:,} rows)")
    print(f"README.txt and data_dictionary.csv in {out_dir} say where the files came from and what each column is.")
    if refusal:
        print(f"Refused: {refusal}", file=sys.stderr)
        return 1
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    from samskab.analysts.tables import counted, format_table
    from samskab.publish import history, snapshots

    settings = get_settings()
    if history.configured(settings):
        try:
            shared = history.listed(settings)
        except history.HistoryUnavailable as error:
            print(error, file=sys.stderr)
            return 2
        print(
            format_table(
                ["published (Danish time)", "run", "version"],
                [(f"{kept.published_at:%Y-%m-%d %H:%M}", kept.run_id, str(kept.version)) for kept in shared],
            )
        )
        print(
            f"-- {counted(len(shared), 'snapshot')} of the shared history (SAMSKAB_DUCKLAKE_CATALOG), kept "
            f"{settings.snapshot_retention_days} nights; --as-of DAY reads these"
        )
        return 0 if shared else 1
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
        f"-- {counted(len(kept), 'snapshot')}, kept {settings.snapshot_retention_days} nights "
        "(SAMSKAB_SNAPSHOT_RETENTION_DAYS); read one with --as-of DAY"
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
    report = commands.add_parser(
        "report",
        help="open the study report (charts of the published file, or of the snapshot of --as-of DAY)",
        description="Open the study report in a browser: the charts of the published file, drawn in Danish by "
        "its refresh, or drawn now: of the snapshot of --as-of DAY, or in English with --lang en.",
    )
    report.add_argument("--lang", choices=("da", "en"), default="da", help="the report's language (default da: Danish)")
    report.add_argument("--no-open", action="store_true", help="print the report's path without opening a browser")
    report.add_argument("--to", metavar="DIR", help="where a report drawn now is written (default: a temporary folder)")
    _add_as_of(report)
    report.set_defaults(handler=cmd_report)
    export = commands.add_parser(
        "export",
        help="a mart, or all of them, as Parquet, CSV (Danish Excel), xlsx, SPSS .sav or Stata .dta",
        description="SPSS and Stata files carry variable labels and value labels from the codebook; every export "
        "folder gets README.txt (which file and run it came from) and data_dictionary.csv.",
    )
    export.add_argument("marts", nargs="*", metavar="MART", help="marts to export (or --all)")
    export.add_argument("--all", action="store_true", help="every mart")
    export.add_argument("--format", required=True, choices=("parquet", "csv", "xlsx", "sav", "dta"))
    export.add_argument("--to", required=True, metavar="DIR", help="the folder to write into (created if missing)")
    _add_as_of(export)
    export.set_defaults(handler=cmd_export)
    listing = commands.add_parser(
        "snapshots",
        help="the dated snapshots kept of the published file, for --as-of",
        description="The dated snapshots kept of the published file: the days `--as-of DAY` can read.",
    )
    listing.set_defaults(handler=cmd_snapshots)
