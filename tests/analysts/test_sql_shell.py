"""`samskab sql`: one query or an interactive shell, read-only, never in a refresh's way."""

from __future__ import annotations

import csv
import io
import os
import pty
import select
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from samskab.common.settings import Settings
from tests.lakes import FIRST_NIGHT, REPO, SAMSKAB, publish_version, samskab

RUN_ID = "1a1a1a1a-0000-4000-8000-000000000001"


def small_lake(tmp_path: Path) -> Settings:
    settings = Settings(data_lake=tmp_path / "data_lake")
    publish_version(settings, 1, FIRST_NIGHT, RUN_ID)
    return settings


def test_one_query_prints_a_table_and_names_the_file_it_read(tmp_path):
    settings = small_lake(tmp_path)
    result = samskab(
        settings.data_lake,
        "sql",
        "select municipality_code, population from municipality_profile order by 1 limit 3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "municipality_code  population",
        "-----------------  ----------",
        "              100        1000",
        "              101        1001",
        "              102        1002",
        f"-- 3 rows from the published file: run {RUN_ID}, built 2026-11-20 01:31 UTC "
        "(kept as the snapshot of 2026-11-20 02:31 (Danish time))",
    ]


def test_csv_prints_every_row_and_keeps_the_source_line_out_of_the_data(tmp_path):
    settings = small_lake(tmp_path)
    result = samskab(settings.data_lake, "sql", "--csv", "--max-rows", "5", "select * from municipality_profile")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["municipality_code", "population"] and len(rows) == 99
    assert result.stderr.startswith(f"-- 98 rows from the published file: run {RUN_ID}")
    shortened = samskab(settings.data_lake, "sql", "--max-rows", "5", "select * from municipality_profile")
    assert "-- 5 rows (and 93 more not shown: add --max-rows 0 for all, or --csv)" in shortened.stdout


def test_a_file_published_after_the_source_was_resolved_is_the_one_named(tmp_path):
    """A refresh may publish between finding the file and opening it: the command names the run whose file
    it queries, and that run's snapshot (it named the run before, beside the new file's figures)."""
    import io as text_io

    from samskab.analysts.source import resolve
    from samskab.analysts.sql import run_query

    settings = small_lake(tmp_path)
    source = resolve(settings)
    newer = "2b2b2b2b-0000-4000-8000-000000000002"
    publish_version(settings, 2, FIRST_NIGHT.replace(hour=2), newer)
    out, err = text_io.StringIO(), text_io.StringIO()
    assert run_query(source, "select max(population) from municipality_profile", True, 0, out, err) == 0
    assert out.getvalue().splitlines()[1] == "2097"  # the second file's figures
    assert f"run {newer}, built 2026-11-20 02:31 UTC (kept as the snapshot of 2026-11-20 03:31" in err.getvalue()
    assert RUN_ID not in err.getvalue()


def test_writes_files_and_attachments_are_refused_and_the_file_is_unchanged(tmp_path):
    settings = small_lake(tmp_path)
    before = settings.published_path.read_bytes()
    for statement, says in (
        ("create table notes as select 1", "read-only mode"),
        ("delete from municipality_profile", "read-only mode"),
        (f"copy municipality_profile to '{tmp_path / 'out.csv'}'", "file system operations are disabled"),
        (f"attach '{tmp_path / 'other.duckdb'}' as other", "file system operations are disabled"),
        # the file itself attached again is read-only too
        (f"attach '{settings.published_path}' as again; create table again.notes as select 1", "read-only mode"),
        ("set enable_external_access = true", "lock"),
    ):
        result = samskab(settings.data_lake, "sql", statement)
        assert result.returncode == 1, statement
        assert says in result.stderr, (statement, result.stderr)
    assert settings.published_path.read_bytes() == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_nothing_published_yet_says_what_to_run(tmp_path):
    result = samskab(tmp_path / "empty_lake", "sql", "select 1")
    assert result.returncode == 2
    assert "Nothing is published yet: run `samskab refresh`" in result.stderr


class Terminal:
    """`samskab sql` on a pseudo-terminal, as a person at a keyboard sees it."""

    def __init__(self, lake: Path, state_home: Path) -> None:
        self.controller, worker = pty.openpty()
        environment = {**os.environ, "SAMSKAB_DATA_LAKE": str(lake), "XDG_STATE_HOME": str(state_home)}
        environment.pop("INPUTRC", None)
        environment["TERM"] = "xterm"
        self.process = subprocess.Popen(
            [*SAMSKAB, "sql"], stdin=worker, stdout=worker, stderr=worker, cwd=REPO, env=environment
        )
        os.close(worker)
        self.seen = ""

    def type(self, keys: str) -> None:
        os.write(self.controller, keys.encode())

    def wait_for(self, text: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {text!r}; the terminal shows:\n{self.seen}"
            ready, _, _ = select.select([self.controller], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.controller, 65536).decode(errors="replace")
                except OSError:  # the shell ended
                    break
        assert text in self.seen, self.seen
        return self.seen

    def close(self) -> int:
        code = self.process.wait(timeout=20)
        os.close(self.controller)
        return code


def test_interactive_shell_completes_names_keeps_history_and_does_not_block_a_publish(tmp_path):
    settings = small_lake(tmp_path)
    terminal = Terminal(settings.data_lake, tmp_path / "state")
    try:
        terminal.wait_for("samskab> ")
        assert f"run {RUN_ID}" in terminal.seen
        # Tab completes a table name, then a column name
        terminal.type("select max(popul\t) from municipality_pro\t;\r")
        terminal.wait_for("1097")
        assert "municipality_profile" in terminal.seen
        # a statement may span lines; dot commands describe the file
        terminal.type("select count(*)\r")
        terminal.wait_for("...> ")
        terminal.type("  from municipality_profile;\r")
        terminal.wait_for("98")
        terminal.type(".tables\r")
        terminal.wait_for("municipality_profile")
        # a publish while the shell is open: the shell keeps its file, nothing waits for it
        publish_version(settings, 2, datetime(2026, 11, 21, 1, 30, tzinfo=UTC), "2b2b2b2b-0000-4000-8000-0000000002")
        after = samskab(settings.data_lake, "sql", "select max(population) as highest from municipality_profile")
        assert after.stdout.splitlines()[2].strip() == "2097"
        terminal.type("select max(population) + 1 as still from municipality_profile;\r")
        terminal.wait_for("1098")
        assert "A newer file has been published since this shell opened" in terminal.seen
        terminal.type(".reopen\r")
        terminal.wait_for("Reading the published file: run 2b2b2b2b-")
        terminal.type("select max(population) + 2 as now from municipality_profile;\r")
        terminal.wait_for("2099")
        terminal.type("drop table municipality_profile;\r")
        terminal.wait_for("read-only mode")
        terminal.type(".quit\r")
    finally:
        code = terminal.close()
    assert code == 0
    history = (tmp_path / "state" / "samskab" / "sql_history").read_text()
    assert "select max(population" in history and "from municipality_profile" in history
    assert "drop table municipality_profile;" in history
