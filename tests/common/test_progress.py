"""Progress: a bar redrawn in place in a terminal, a few plain lines anywhere else."""

from __future__ import annotations

import io

from samskab.common.progress import Progress


class TerminalStream(io.StringIO):
    """What a terminal receives (a TTY as far as the code can tell)."""

    def isatty(self) -> bool:
        return True


def test_in_a_log_progress_is_a_line_at_start_each_quarter_and_end():
    lines: list[str] = []
    with Progress("dbt build", 200, "nodes", stream=io.StringIO(), log=lines.append) as progress:
        for _ in range(200):
            progress.advance()
    assert lines[0] == "dbt build: started, 200 nodes to do"
    assert lines[1:4] == [
        "dbt build: 50 of 200 nodes (25 %)",
        "dbt build: 100 of 200 nodes (50 %)",
        "dbt build: 150 of 200 nodes (75 %)",
    ]
    assert lines[4].startswith("dbt build: done, 200 of 200 nodes in ") and len(lines) == 5
    assert not any("\r" in line for line in lines)


def test_in_a_terminal_progress_is_one_line_redrawn_in_place():
    stream = TerminalStream()
    progress = Progress("Export", 3, "tables", stream=stream, log=lambda line: stream.write("LOGGED " + line))
    for table in ("motives", "barriers", "municipality_profile"):
        progress.advance(note=table)
    progress.finish()
    shown = stream.getvalue()
    assert "LOGGED" not in shown
    assert shown.count("\n") == 1 and shown.endswith("\n")
    last = shown.rstrip("\n").split("\r")[-1]
    assert last.startswith("Export [########################] 3/3 tables") and "municipality_profile" in last


def test_an_empty_piece_of_work_says_so_and_finishes_once():
    lines: list[str] = []
    progress = Progress("Ingest", 0, "MB of deliveries", stream=io.StringIO(), log=lines.append)
    progress.finish()
    progress.finish()
    assert lines[0] == "Ingest: started, 0 MB of deliveries to do"
    assert len(lines) == 2 and lines[1].startswith("Ingest: done, 0 of 0 MB of deliveries")
