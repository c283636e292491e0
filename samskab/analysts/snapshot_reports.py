"""The study report of every kept snapshot, drawn when first asked for: what `samskab serve` serves under
`/snapshots/` (samskab/operate/docs_server.py).

`index_page` lists the kept snapshots, newest first, each with its report in Danish and in English.
`report` draws a snapshot's report on its first request (a second or two) into `published/docs/snapshots/`
and serves that file afterwards: a snapshot never changes (its checksum is verified before it is read), so
its report drawn once stays right. The reports of snapshots no longer kept are removed when the index is
drawn. Only a name the index lists is read: a request names a snapshot, never a path.
"""

from __future__ import annotations

import html
from pathlib import Path

from samskab.analysts.report import LANGUAGES, build_report
from samskab.common.settings import Settings
from samskab.operate.docs_server import Answer
from samskab.publish import snapshots

FOLDER = "snapshots"  # in the docs folder, so under /snapshots/ as the index is
PREFIX = f"/{FOLDER}/"


def reports_dir(settings: Settings) -> Path:
    return settings.docs_dir / FOLDER


def page_name(snapshot: snapshots.Snapshot, lang: str) -> str:
    return f"{snapshot.path.stem}.html" if lang == "da" else f"{snapshot.path.stem}.{lang}.html"


def _kept(settings: Settings) -> dict[str, snapshots.Snapshot]:
    return {snapshot.path.stem: snapshot for snapshot in snapshots.listed(settings)}


def report(settings: Settings, name: str) -> Path | None:
    """The report page `name` (as the index links it), drawn now if it is not yet; None when no kept
    snapshot has that page. Raises snapshots.SnapshotChanged when the snapshot's bytes are not those kept."""
    from samskab.analysts.source import connect, of_snapshot

    stem, _, rest = name.partition(".")
    lang = "da" if rest == "html" else rest.removesuffix(".html")
    snapshot = _kept(settings).get(stem)
    if snapshot is None or lang not in LANGUAGES or name != page_name(snapshot, lang):
        return None
    path = reports_dir(settings) / name
    if path.is_file():
        return path
    source, connection = connect(of_snapshot(settings, snapshot))
    try:
        return build_report(connection, source, path, lang)
    finally:
        connection.close()


def index_page(settings: Settings) -> str:
    """The kept snapshots, newest first, each linking its report in Danish and in English."""
    kept = _kept(settings)
    folder = reports_dir(settings)
    if folder.is_dir():
        for drawn in folder.glob("*.html"):
            if drawn.name.partition(".")[0] not in kept:
                drawn.unlink(missing_ok=True)  # its snapshot was pruned
    rows = "\n".join(
        f"<tr><td>{snapshot.published_at:%Y-%m-%d %H:%M}</td><td>{html.escape(snapshot.run_prefix)}</td>"
        f'<td><a href="{html.escape(page_name(snapshot, "da"))}">rapport (dansk)</a></td>'
        f'<td><a href="{html.escape(page_name(snapshot, "en"))}">report (English)</a></td></tr>'
        for snapshot in reversed(list(kept.values()))
    )
    empty = "" if kept else "<p>Ingen øjebliksbilleder endnu / No snapshots kept yet.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="da">\n<head><meta charset="utf-8"><title>Øjebliksbilleder / Snapshots'
        "</title><style>body{font-family:sans-serif;margin:2em;color:#222}td,th{border:1px solid #bbb;"
        "padding:0.25em 0.6em}table{border-collapse:collapse}</style></head>\n<body>\n"
        "<h1>Øjebliksbilleder / Snapshots</h1>\n"
        "<p>Den offentliggjorte fil, som analytikerne havde efter hver offentliggørelse (dansk tid); hver "
        "rapport tegnes første gang, den åbnes. / The published file analysts had after each publish (Danish "
        "time); each report is drawn the first time it is opened.</p>\n"
        f"{empty}<table><thead><tr><th>Offentliggjort / Published</th><th>Kørsel / Run</th><th></th><th></th>"
        f"</tr></thead>\n<tbody>\n{rows}\n</tbody></table>\n</body>\n</html>\n"
    )


class SnapshotPages:
    """The route `samskab serve` answers `/snapshots/` with (samskab/operate/docs_server.py): the index, or a
    report drawn if need be and then served from the docs folder; None (404) for a name no snapshot has."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, name: str) -> Answer | None:
        if name in ("", "index.html"):
            return Answer(200, index_page(self.settings))
        try:
            return None if report(self.settings, name) is None else Answer()
        except snapshots.SnapshotChanged as changed:
            return Answer(409, f"<p>{html.escape(str(changed))}</p>")
