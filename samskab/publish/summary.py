"""What a night did, as the markdown summary the Prefect UI shows on its run: the verdict, what needs
attention, the published file, its documentation, rows per table and what each delivery loaded.

Names files, tables and counts; never a value from the data. Every text that comes from the landing zone
(delivery names, notes, reasons) is escaped (`markdown.inline`): a folder name cannot inject a link or script.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from samskab.common.markdown import inline
from samskab.ingest.raw_store import LoadSummary

PUBLISHED_NAME = "published/analytics.duckdb"  # in the data lake; logs never name a path of the server


def published_summary(
    run_id: str,
    verdict: str,
    attention: list[str],
    docs: dict[str, str],
    row_counts: dict[str, int],
    row_changes: list[dict],
    loads: Iterable[LoadSummary],
) -> str:
    """The summary of a run that published."""
    lines = [f"# Nightly refresh {inline(run_id)}", "", f"**Gate:** {inline(verdict)}", ""]
    if attention:
        lines += ["**Needs attention** (the rest was published):", ""]
        lines += [f"- {inline(line)}" for line in attention]
        lines += [""]
    lines += [f"**Published:** `{PUBLISHED_NAME}` in the data lake", ""]
    if docs:
        links = [f"[{inline(name)}](<{_uri(path)}>)" for name, path in docs.items()]
        lines += ["**Documentation** of this file (static pages beside it): " + " · ".join(links), ""]
    else:
        lines += ["**Documentation** could not be built this time (see the log of 'build documentation').", ""]
    lines += ["| table | rows | change since the last publish |", "| --- | --- | --- |"]
    changes = {row["table"]: row["change"] for row in row_changes}
    lines += [
        f"| {table} | {n:,} | {changes.get(table, '')} |" for table, n in row_counts.items()
    ]  # the platform's words
    loads = list(loads)
    lines += ["", "| delivery | state | loaded | rejected |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {inline(load.delivery)} | {inline(load.state)} | {sum(load.rows.values())} | {load.n_rejected} |"
        for load in loads
    ]
    notes = [f"- {inline(load.delivery)}: {inline(note)}" for load in loads for note in load.notes]
    if notes:
        lines += ["", "**Notes on deliveries:**", "", *notes]
    return "\n".join(lines)


def _uri(path: str) -> str:
    """A file's address for a Markdown link in angle brackets: every character a link could end at encoded."""
    return Path(path).resolve().as_uri().replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def nothing_to_do_summary(run_id: str, verdict: str, attention: list[str]) -> str:
    """The summary of a run that found nothing changed (or a rollback holding)."""
    lines = [f"# Nightly refresh {inline(run_id)}", "", f"**{inline(verdict)}**", ""]
    if attention:
        lines += ["**Still needs attention** (as found when these landing files were last read):", ""]
        lines += [f"- {inline(line)}" for line in attention]
    else:
        lines += ["Every file in the landing zone was read when it was last refreshed."]
    return "\n".join(lines)
