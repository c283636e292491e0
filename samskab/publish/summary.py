"""What a night did, as the markdown summary the Prefect UI shows on its run: the verdict, what needs
attention, the published file, its documentation, rows per table and what each delivery loaded.

Names files, tables and counts; never a value from the data. Every text that comes from the landing zone
(delivery names, notes, reasons) is escaped (`markdown.inline`): a folder name cannot inject a link or script.
"""

from __future__ import annotations

import urllib.parse
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
    docs_dir: Path,
    docs_url: str | None = None,
) -> str:
    """The summary of a run that published. Its documentation is linked at `docs_url` (where `samskab serve`
    serves `docs_dir`): a browser opens no `file://` link from a web page, so without a server the summary
    names the files and the commands that open them."""
    lines = [f"# Nightly refresh {inline(run_id)}", "", f"**Gate:** {inline(verdict)}", ""]
    if attention:
        lines += ["**Needs attention** (the rest was published):", ""]
        lines += [f"- {inline(line)}" for line in attention]
        lines += [""]
    lines += [f"**Published:** `{PUBLISHED_NAME}` in the data lake", ""]
    if docs and docs_url:
        links = [f"[{inline(name)}](<{_served(docs_url, docs_dir, path)}>)" for name, path in docs.items()]
        links.append(f"[earlier files' reports (snapshots)](<{docs_url}/snapshots/>)")
        lines += ["**Documentation** of this file: " + " · ".join(links), ""]
    elif docs:
        files = [f"{inline(name)} `{inline(_in_lake(docs_dir, path))}`" for name, path in docs.items()]
        lines += [
            "**Documentation** of this file, beside it in the data lake: " + " · ".join(files) + ". "
            "`samskab serve` serves it to a browser (the summaries of the runs it makes link there); "
            "`samskab report` opens the report (`--as-of DAY` a snapshot's, `--lang en` in English).",
            "",
        ]
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


def _in_docs(docs_dir: Path, path: str) -> str:
    """A documentation file's path within the docs folder (`dbt/index.html`)."""
    return Path(path).resolve().relative_to(docs_dir.resolve()).as_posix()


def _served(docs_url: str, docs_dir: Path, path: str) -> str:
    """A documentation file's address on the docs server, for a Markdown link in angle brackets."""
    return f"{docs_url.rstrip('/')}/{urllib.parse.quote(_in_docs(docs_dir, path))}"


def _in_lake(docs_dir: Path, path: str) -> str:
    """A documentation file's path in the data lake (`published/docs/...`)."""
    return f"published/docs/{_in_docs(docs_dir, path)}"


def nothing_to_do_summary(run_id: str, verdict: str, attention: list[str]) -> str:
    """The summary of a run that found nothing changed (or a rollback holding)."""
    lines = [f"# Nightly refresh {inline(run_id)}", "", f"**{inline(verdict)}**", ""]
    if attention:
        lines += ["**Still needs attention** (as found when these landing files were last read):", ""]
        lines += [f"- {inline(line)}" for line in attention]
    else:
        lines += ["Every file in the landing zone was read when it was last refreshed."]
    return "\n".join(lines)
