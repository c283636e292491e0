"""The published documentation served on loopback while `samskab serve` runs (samskab/operate/docs_server.py):
its pages open, and nothing else does: no folder listing, nothing outside the folder, no writes; the kept
snapshots' reports are drawn on their first request."""

from __future__ import annotations

import re
import shutil

import httpx

from samskab.analysts.snapshot_reports import PREFIX, SnapshotPages
from samskab.common.settings import Settings
from samskab.operate.docs_server import DocsServer, docs_port
from samskab.operate.prefect_server import free_port
from samskab.publish import snapshots


def test_the_docs_folder_is_served_read_only_and_nothing_outside_it(tmp_path):
    docs = tmp_path / "published" / "docs"
    (docs / "dbt").mkdir(parents=True)
    (docs / "report.html").write_text("<h1>Rapport</h1>", encoding="utf-8")
    (docs / "dbt" / "index.html").write_text("<h1>dbt</h1>", encoding="utf-8")
    (tmp_path / "published" / "analytics.duckdb").write_bytes(b"the published file, not documentation")
    server = DocsServer(docs)
    try:
        report = httpx.get(f"{server.url}/report.html", timeout=10)
        assert report.status_code == 200 and report.text == "<h1>Rapport</h1>"
        assert report.headers["content-type"].startswith("text/html")
        assert httpx.get(f"{server.url}/dbt/", timeout=10).text == "<h1>dbt</h1>"  # a folder's index page
        assert httpx.get(f"{server.url}/", timeout=10).status_code == 404  # no listing of a folder
        for outside in ("/../analytics.duckdb", "/%2e%2e/analytics.duckdb", "/dbt/../../analytics.duckdb"):
            answer = httpx.get(f"{server.url}{outside}", timeout=10)
            assert answer.status_code == 404 and b"published file" not in answer.content, outside
        assert httpx.post(f"{server.url}/report.html", content=b"x", timeout=10).status_code == 501
    finally:
        server.stop()


def test_the_docs_port_is_another_when_the_one_beside_prefects_is_taken(tmp_path):
    taken = DocsServer(tmp_path, free_port())
    try:
        port = int(taken.url.rsplit(":", 1)[1])
        assert docs_port(port - 1) == 0  # port 0: the system gives a free one
    finally:
        taken.stop()


def test_a_snapshots_report_is_drawn_on_its_first_request_and_only_a_listed_name_is_read(refreshed_lake, tmp_path):
    lake, _, refresh = refreshed_lake
    kept = snapshots.for_run(Settings(data_lake=lake), refresh.run_id)
    settings = Settings(data_lake=tmp_path / "lake")
    settings.snapshots_dir.mkdir(parents=True)
    for path in (kept.path, snapshots.checksum_path(kept.path)):
        shutil.copy(path, settings.snapshots_dir / path.name)
    snapshot = snapshots.listed(settings)[0]
    server = DocsServer(settings.docs_dir, 0, {PREFIX: SnapshotPages(settings)})
    try:
        index = httpx.get(f"{server.url}/snapshots/", timeout=10)
        assert index.status_code == 200 and f"{snapshot.published_at:%Y-%m-%d %H:%M}" in index.text
        links = re.findall(r'href="([^"]+)"', index.text)
        assert links == [f"{snapshot.path.stem}.html", f"{snapshot.path.stem}.en.html"]

        danish = httpx.get(f"{server.url}/snapshots/{links[0]}", timeout=60)
        assert danish.status_code == 200 and '<html lang="da">' in danish.text
        assert (
            refresh.run_id in danish.text and f"øjebliksbillede {snapshot.published_at:%Y-%m-%d %H:%M}" in danish.text
        )
        drawn = settings.docs_dir / "snapshots" / links[0]
        assert drawn.is_file()
        english = httpx.get(f"{server.url}/snapshots/{links[1]}", timeout=60)
        assert english.status_code == 200 and '<html lang="en">' in english.text
        modified = drawn.stat().st_mtime_ns
        assert httpx.get(f"{server.url}/snapshots/{links[0]}", timeout=10).text == danish.text
        assert drawn.stat().st_mtime_ns == modified  # drawn once, served afterwards

        for asked in ("nothing.html", f"{snapshot.path.stem}.fr.html", "../analytics.duckdb", "x/y.html",
                      f"..%2f..%2fsnapshots%2f{snapshot.path.name}"):  # fmt: skip
            assert httpx.get(f"{server.url}/snapshots/{asked}", timeout=10).status_code == 404, asked

        # a snapshot whose bytes changed since it was kept is refused, with the reason
        (settings.docs_dir / "snapshots" / links[1]).unlink()
        snapshot.path.chmod(0o644)
        with snapshot.path.open("r+b") as changed:
            changed.seek(-1, 2)
            last = changed.read(1)
            changed.seek(-1, 2)
            changed.write(bytes([last[0] ^ 0xFF]))
        refused = httpx.get(f"{server.url}/snapshots/{links[1]}", timeout=10)
        assert refused.status_code == 409 and "was changed since it was kept" in refused.text

        # a pruned snapshot leaves the index, and its report goes with it
        snapshot.path.unlink()
        assert snapshot.path.stem not in httpx.get(f"{server.url}/snapshots/", timeout=10).text
        assert not drawn.exists()
    finally:
        server.stop()
