"""`samskab sql`: read-only SQL on the published file (or a dated snapshot).

`samskab sql "QUERY"` prints the result as a table (or CSV with `--csv`) and names the file it read;
`samskab sql` alone opens an interactive shell with history and completion of table and column names.
The connection is read-only and sandboxed (samskab/analysts/source.py): it never takes a write lock, and
cannot write or attach files.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from samskab.analysts.source import Source, connect
from samskab.analysts.tables import cell_text, counted, format_table

KEYWORDS = (
    "select", "from", "where", "group by", "order by", "having", "limit", "join", "left join", "on", "using",
    "with", "as", "and", "or", "not", "in", "is null", "is not null", "distinct", "count", "sum", "avg",
    "min", "max", "round", "case", "when", "then", "else", "end", "describe", "summarize", "union all",
)  # fmt: skip
HELP = """\
Type SQL ending with ';' (it may span lines). Tab completes table and column names.
  .tables             the published tables (marts) and the meta tables
  .describe TABLE     a table's columns, with what each one means
  .reopen             read the file published now (after a refresh; the shell keeps the one it opened)
  .help               this text
  .quit               leave (or Ctrl-D)
The file is read-only. meta.data_dictionary explains every column; docs/cookbook.md has worked queries."""


def history_path() -> Path:
    """Where the shell keeps its history: $XDG_STATE_HOME/samskab/sql_history (~/.local/state by default)."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "samskab" / "sql_history"


def run_query(source: Source, query: str, as_csv: bool, max_rows: int, out: TextIO, err: TextIO) -> int:
    """Run one query; print its result (table or CSV) and the source it came from. Returns an exit code."""
    source, connection = connect(source)
    try:
        try:
            cursor = connection.execute(query)
        except duckdb.Error as error:
            err.write(f"The query failed: {error}\n")
            return 1
        if cursor.description is None:
            err.write(f"Done (no result). Source: {source.describe()}\n")
            return 0
        columns = [column[0] for column in cursor.description]
        if as_csv:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            n_rows = 0
            while batch := cursor.fetchmany(10_000):
                writer.writerows([[cell_text(value) for value in row] for row in batch])
                n_rows += len(batch)
            err.write(f"-- {counted(n_rows, 'row')} from {source.describe()}\n")
            return 0
        rows = cursor.fetchmany(max_rows + 1) if max_rows > 0 else cursor.fetchall()
        shown = rows[:max_rows] if max_rows > 0 else rows
        out.write(format_table(columns, shown) + "\n")
        more = ""
        if max_rows > 0 and len(rows) > max_rows:
            rest = len(rows) - max_rows + len(cursor.fetchall())
            more = f" (and {rest:,} more not shown: add --max-rows 0 for all, or --csv)"
        out.write(f"-- {counted(len(shown), 'row')}{more} from {source.describe()}\n")
        return 0
    finally:
        connection.close()


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at `path` now: a publish renames a new file in, so the inode changes."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


class Shell:
    """The interactive shell: a line editor with history and completion, over one read-only connection."""

    def __init__(self, source: Source, max_rows: int = 40, reopen: Callable[[], Source] | None = None) -> None:
        self.max_rows = max_rows
        # On the published file (not a snapshot): how to find the file published now, for `.reopen`.
        self.reopen = reopen if source.as_of is None else None
        self._open(source)

    def _open(self, source: Source) -> None:
        self.opened = _identity(source.path)  # before opening: a file published after it is a newer one
        self.source, self.connection = connect(source)
        self.names = self._names()
        self.told_newer = False

    def newer_file_note(self) -> str | None:
        """Once, when a refresh has published a new file since this shell opened (the shell keeps its own)."""
        if self.reopen is None or self.told_newer or _identity(self.source.path) == self.opened:
            return None
        self.told_newer = True
        return (
            "-- A newer file has been published since this shell opened; this shell keeps reading the one it "
            "opened. `.reopen` reads the new one."
        )

    def _names(self) -> list[str]:
        rows = self.connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('main', 'meta')"
        ).fetchall()
        names = {column for _, _, column in rows}
        names |= {table if schema == "main" else f"{schema}.{table}" for schema, table, _ in rows}
        return sorted(names | set(KEYWORDS) | {"meta"})

    def complete(self, text: str, state: int) -> str | None:
        matches = [name for name in self.names if name.startswith(text.lower())]
        return matches[state] if state < len(matches) else None

    def tables(self) -> str:
        rows = self.connection.execute(
            "select schema_name, table_name, estimated_size, comment from duckdb_tables() "
            "where schema_name in ('main', 'meta') order by schema_name = 'meta', table_name"
        ).fetchall()
        shown = [
            (table if schema == "main" else f"{schema}.{table}", size, (comment or "")[:70])
            for schema, table, size, comment in rows
        ]
        return format_table(["table", "rows", "what it holds"], shown)

    def describe(self, name: str) -> str:
        schema, _, table = name.rpartition(".")
        rows = self.connection.execute(
            "select column_name, data_type, comment from duckdb_columns() where schema_name = ? and table_name = ? "
            "order by column_index",
            [schema or "main", table],
        ).fetchall()
        if not rows:
            return f"No table '{name}': .tables lists them."
        return format_table(["column", "type", "meaning"], rows)

    def execute(self, statement: str, out: TextIO) -> None:
        command = statement.strip().rstrip(";").strip()
        word, _, argument = command.partition(" ")
        if word in (".tables", ".t"):
            out.write(self.tables() + "\n")
            return
        if word in (".describe", ".d"):
            out.write(self.describe(argument.strip()) + "\n")
            return
        if word == ".help":
            out.write(HELP + "\n")
            return
        if word == ".reopen":
            if self.reopen is None:
                out.write("This shell reads a snapshot (--as-of), which never changes.\n")
                return
            self.connection.close()
            self._open(self.reopen())
            out.write(f"Reading {self.source.describe()}.\n")
            return
        note = self.newer_file_note()
        if note:
            out.write(note + "\n")
        if word.startswith("."):
            out.write(f"Unknown command {word}. {HELP.splitlines()[-1]}\n.help lists the commands.\n")
            return
        try:
            cursor = self.connection.execute(statement)
        except duckdb.Error as error:
            out.write(f"The query failed: {error}\n")
            return
        if cursor.description is None:
            out.write("Done.\n")
            return
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(self.max_rows + 1)
        out.write(format_table(columns, rows[: self.max_rows]) + "\n")
        if len(rows) > self.max_rows:
            rest = len(rows) - self.max_rows + len(cursor.fetchall())
            out.write(f"-- {self.max_rows} rows shown, {rest:,} more (add a limit, or use `samskab sql --csv`)\n")

    def run(self, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
        interactive = stdin.isatty()
        history = history_path()
        if interactive:
            import readline

            readline.set_completer(self.complete)
            readline.set_completer_delims(" \t\n,;()=<>'\"")
            readline.parse_and_bind("tab: complete")
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
            out.write(f"Reading {self.source.describe()}.\nRead-only. .help for help, .quit to leave.\n")
        pending: list[str] = []
        try:
            while True:
                prompt = ("samskab> " if not pending else "     ...> ") if interactive else ""
                try:
                    line = input(prompt) if interactive else stdin.readline()
                except EOFError:
                    break
                except KeyboardInterrupt:
                    out.write("\n")
                    pending = []
                    continue
                if not interactive and line == "":
                    break
                line = line.rstrip("\n")
                if not pending and line.strip() in (".quit", ".exit", "quit", "exit"):
                    break
                if not pending and not line.strip():
                    continue
                pending.append(line)
                text = "\n".join(pending).strip()
                if text.startswith(".") or text.endswith(";"):
                    self.execute(text, out)
                    out.flush()
                    pending = []
            if pending:
                self.execute("\n".join(pending), out)
        finally:
            if interactive:
                import readline

                history.parent.mkdir(parents=True, exist_ok=True)
                readline.set_history_length(5000)
                readline.write_history_file(history)
            self.connection.close()
        return 0
