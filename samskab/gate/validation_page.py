"""The quality gate's verdicts as one page that opens without a network: `published/docs/validation.html`.

Great Expectations' Data Docs draw their index and their status icons with scripts and fonts fetched from
public CDNs, so offline (the study's machines, a browser that blocks them) the index is empty and a
result's status blank. This page is the platform's own and replaces them for researchers (the run's
summary links it; it links Data Docs, still built beside it): plain HTML with its style inline, no script,
no font, no image; every status is a word and a sign, so a pass and a fail differ in any browser, printed
too. It lists every suite (Great Expectations' and the consent gate) with its table, rows and verdict,
then every check with its severity, result and what was observed: counts and words, never a value (the
verdicts hold none).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

from samskab.common.atomic_files import write_atomically
from samskab.gate.data_docs import GX_DOCS_DIR
from samskab.gate.suites import BLOCKING, WARNING, SuiteVerdict

PAGE_NAME = "validation.html"
DATA_DOCS_INDEX = f"{GX_DOCS_DIR}/index.html"  # Great Expectations' Data Docs, built beside this page

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 75em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
.passed { background: #e3f4e1; color: #14521a; font-weight: bold; }
.failed { background: #fbe0e0; color: #8a1111; font-weight: bold; }
.warned { background: #fdf1d6; color: #6b4a00; font-weight: bold; }
.number { text-align: right; }
"""

PASSED, FAILED, WARNED = "✔ passed", "✖ FAILED", "! warned"


def _status(success: bool, severity: str) -> tuple[str, str]:
    if success:
        return PASSED, "passed"
    return (FAILED, "failed") if severity == BLOCKING else (WARNED, "warned")


def _suite_status(verdict: SuiteVerdict) -> tuple[str, str]:
    failed = verdict.failed_blocking or verdict.failed_warning
    return _status(not failed, BLOCKING if verdict.failed_blocking else WARNING)


def _anchor(verdict: SuiteVerdict) -> str:
    return "suite-" + "".join(c if c.isalnum() else "-" for c in f"{verdict.suite}-{verdict.table}")


def render_validation_page(verdicts: Iterable[SuiteVerdict], run_name: str) -> str:
    """The page's HTML."""
    verdicts = list(verdicts)
    esc = html.escape
    rows, sections = [], []
    for verdict in verdicts:
        said, css = _suite_status(verdict)
        n_passed = sum(outcome.success for outcome in verdict.outcomes)
        rows.append(
            f'<tr><td><a href="#{_anchor(verdict)}">{esc(verdict.suite)}</a></td><td>{esc(verdict.table)}</td>'
            f'<td class="number">{verdict.n_rows:,}</td><td class="number">{n_passed} of {len(verdict.outcomes)}</td>'
            f'<td class="{css}">{esc(said)}</td></tr>'
        )
        checks = []
        for outcome in verdict.outcomes:
            said_check, css_check = _status(outcome.success, outcome.severity)
            checks.append(
                f"<tr><td>{esc(outcome.check)}</td><td>{esc(outcome.column or '')}</td><td>{esc(outcome.severity)}</td>"
                f'<td class="{css_check}">{esc(said_check)}</td><td>{esc(outcome.observed)}</td>'
                f"<td>{esc(outcome.description)}</td></tr>"
            )
        sections.append(
            f'<h2 id="{_anchor(verdict)}">{esc(verdict.suite)} on {esc(verdict.table)}</h2>'
            "<table><thead><tr><th>check</th><th>column</th><th>severity</th><th>status</th><th>observed</th>"
            f"<th>what it checks</th></tr></thead><tbody>{''.join(checks)}</tbody></table>"
        )
    n_failed = sum(1 for verdict in verdicts if verdict.failed_blocking)
    headline = (
        f"{len(verdicts)} suites, {n_failed} failed a blocking check"
        if n_failed
        else f"{len(verdicts)} suites, every blocking check met"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Quality checks of {esc(run_name)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Quality checks of run {esc(run_name)}</h1><p>{esc(headline)}. A blocking check that fails stops "
        "the publish; a warning is reported and published. Counts and words only, never a value from the data."
        "</p><table><thead><tr><th>suite</th><th>table</th><th>rows</th><th>checks met</th><th>status</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        "<p>Great Expectations' own Data Docs of these checks are built beside this page: "
        f'<a href="{DATA_DOCS_INDEX}">{DATA_DOCS_INDEX}</a>. Their index needs a network for its scripts (with '
        f"none it lists nothing); this page needs none.</p>{''.join(sections)}</body></html>\n"
    )


def build_validation_page(verdicts: Iterable[SuiteVerdict], target_dir: Path, run_name: str) -> Path:
    """Write the page into `target_dir` (the published file's docs folder); returns its path."""
    path = target_dir / PAGE_NAME
    target_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(path, render_validation_page(verdicts, run_name))
    return path
