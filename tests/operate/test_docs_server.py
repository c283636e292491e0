"""The published documentation served on loopback while `samskab serve` runs (samskab/operate/docs_server.py):
its pages open, and nothing else does: no folder listing, nothing outside the folder, no writes."""

from __future__ import annotations

import httpx

from samskab.operate.docs_server import DocsServer, docs_port
from samskab.operate.prefect_server import free_port


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
