"""The record of processing (GDPR article 30), drawn from the source registry on every publish.

`published/docs/record_of_processing.html`, beside the rest of the documentation: who is responsible and
why the data is processed (settings), each source with the personal data its deliveries carry, column by
column, and what becomes of it (pseudonymised, scrubbed, dropped, kept in raw only: the declarations in
samskab/ingest/sources/), how long each layer keeps it, and who can read which layer (the file modes the
platform sets, and those it finds). A source whose personal data is not declared is named in the record
as undeclared, and a test refuses it (tests/publish/test_processing_record.py).
"""

from __future__ import annotations

import html
import re
import stat
from pathlib import Path

from samskab.common.atomic_files import write_atomically
from samskab.common.settings import ENV_PREFIX, Settings
from samskab.ingest import retention
from samskab.ingest.deliveries import WAREHOUSE_MODE
from samskab.ingest.sources.common import Source
from samskab.ingest.sources.registry import SOURCES

PAGE = "record_of_processing.html"
# Raw columns that identify a person, or may: each must have a declared treatment in its source.
IDENTIFYING = re.compile(
    r"pseudonym|e_?mail|cpr|phone|telefon|^ip_|_ip$|^(name|navn)$|_navn$"
    r"|^(respondent|informant|contact|person|full|first|last|given|family)_?(name|navn)s?$"
    r"|^(respondent|informant|person)_ids?$"
)


def identifying_columns(source: Source) -> list[str]:
    """The source's raw columns that identify a person or may ("table.column"): by their names, and every
    text column of a table kept in raw only (free text may name anyone)."""
    found = []
    for table in source.tables:
        for column, kind in table.columns:
            if IDENTIFYING.search(column) or (
                table.raw_only and kind.startswith("varchar") and column.endswith("_text")
            ):
                found.append(f"{table.name}.{column}")
    return found


def undeclared(source: Source) -> list[str]:
    """What the source leaves undeclared: every identifying column without a treatment (all of them, or the
    source itself, when it declares nothing)."""
    if source.personal_data is None:
        return [f"{source.name}: declares no personal data (personal_data=None)"]
    declared = {column for item in source.personal_data for column in item.raw_columns}
    return [f"{source.name}: {column}" for column in identifying_columns(source) if column not in declared]


def _mode(path: Path) -> str:
    if not path.exists():
        return "not created yet"
    return stat.filemode(path.stat().st_mode)


def _text(value: str, setting: str) -> str:
    if value.strip():
        return html.escape(value)
    return f"<strong>NOT SET</strong>: set {ENV_PREFIX}{setting.upper()} in the environment or .env"


def _retention(settings: Settings) -> str:
    if settings.originals_retention_days <= 0:
        return (
            f"until removed by hand (no retention is set: {ENV_PREFIX}ORIGINALS_RETENTION_DAYS). Public statistics "
            "stay."
        )
    what = retention.destination(settings)
    return (
        f"{settings.originals_retention_days} days after their version was loaded, then {what} by the refresh "
        "(raw keeps their pseudonymised rows, the ledger their sha256); `samskab status` warns "
        f"{settings.originals_retention_warn_days} days before. Public statistics stay."
    )


def record_html(settings: Settings) -> str:
    rows = []
    for source in SOURCES:
        rows.append(f"<h2>{html.escape(source.name)}: {html.escape(source.description)}</h2>")
        rows.append(f"<p>Delivered into <code>landing/{html.escape(source.folder)}/</code>.</p>")
        if source.personal_data is None:
            rows.append("<p><strong>UNDECLARED</strong>: this source does not say what personal data it carries.</p>")
            continue
        if not source.personal_data:
            rows.append("<p>No personal data.</p>")
            continue
        rows.append(
            "<table><tr><th>personal data</th><th>what becomes of it</th><th>kept in raw as</th>"
            "<th>in the published file</th></tr>"
        )
        for item in source.personal_data:
            kept = ", ".join(f"<code>raw.{html.escape(c)}</code>" for c in item.raw_columns) or "nowhere"
            rows.append(
                f"<tr><td>{html.escape(item.delivered_as)}</td><td>{html.escape(item.treatment)}</td>"
                f"<td>{kept}</td><td>{html.escape(item.published)}</td></tr>"
            )
        rows.append("</table>")
        missing = undeclared(source)
        if missing:
            rows.append("<p><strong>UNDECLARED columns</strong>: " + html.escape(", ".join(missing)) + "</p>")
    layers = [
        (
            "landing zone (originals, names and e-mails in clear)",
            settings.landing_dir,
            "the institute's: the platform reads it and never changes its modes",
        ),
        (
            "warehouse (raw layer: pseudonyms, free text, respondent ids)",
            settings.warehouse_path,
            f"{stat.filemode(stat.S_IFREG | WAREHOUSE_MODE)}: its owner (the account that runs the refresh) only",
        ),
        (
            "published file (marts: keyed pseudonyms, no names)",
            settings.published_path,
            "readable by the analysts who can reach the folder",
        ),
        ("snapshots", settings.snapshots_dir, "each file read-only (-r--r--r--), its sha256 beside it"),
        (
            "retired originals (names and e-mails in clear)",
            settings.retired_originals_dir,
            "each file its owner's only (-rw-------), to be archived or deleted under the institute's rules",
        ),
    ]
    access = "".join(
        f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(_mode(path))}</code></td><td>{html.escape(rule)}</td></tr>"
        for name, path, rule in layers
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Record of processing</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}}</style></head><body>
<h1>Record of processing (GDPR article 30)</h1>
<p>Drawn from the platform's source registry at the publish of the file beside it.</p>
<table>
<tr><th>controller</th><td>{_text(settings.data_controller, "data_controller")}</td></tr>
<tr><th>purpose</th><td>{_text(settings.processing_purpose, "processing_purpose")}</td></tr>
<tr><th>legal basis</th><td>{_text(settings.legal_basis, "legal_basis")}</td></tr>
</table>
{"".join(rows)}
<h2>How long</h2>
<ul>
<li>Landing zone originals with names or e-mails in clear: {_retention(settings)}</li>
<li>Raw layer: as long as its delivery is in the landing zone (a delivery removed from it is withdrawn
from raw on the next refresh); a person erased on request (<code>samskab erase</code>) is removed at once
and kept out by pseudonym (<code>privacy.suppressed</code>).</li>
<li>Snapshots of the published file: {settings.snapshot_retention_days} nights
({ENV_PREFIX}SNAPSHOT_RETENTION_DAYS); the newest is always kept.</li>
</ul>
<h2>Who can read which layer</h2>
<table><tr><th>layer</th><th>mode now</th><th>rule</th></tr>{access}</table>
</body></html>
"""


def build_processing_record(settings: Settings, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PAGE
    write_atomically(path, record_html(settings))
    return path
