"""`samskab serve`: the platform's own Prefect server, its nightly deployment, and nothing left running after."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import httpx
import pytest
import yaml

from samskab.analysts.report import chart_ids, study_concepts
from samskab.common.settings import Settings
from samskab.gate.validation_page import DATA_DOCS_INDEX, FAILED, PASSED, WARNED
from samskab.operate.prefect_server import ANNOUNCEMENT, free_port, port_is_free, running_server_url
from samskab.publish import snapshots
from tests.browser import Seen, open_offline
from tests.lakes import NEW_DELIVERY, NEW_DELIVERY_KEY, REPO, copy_lake, deliver_new
from tests.serving import (
    living,
    living_group_members,
    serve_environment,
    start_serve,
    wait_for,
    wait_for_ui_address,
)

pytestmark = pytest.mark.own_prefect_server

ROOT = REPO


@pytest.mark.end_to_end
def test_serve_runs_the_nightly_deployment_on_request_and_ctrl_c_leaves_nothing_running(refreshed_lake, tmp_path):
    """The run asked for has a new delivery to read beside the refreshed sample: it builds and publishes."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from samskab.operate.prefect_server import refresh_server

    declared = next(
        deployment
        for deployment in yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
        if deployment["name"] == "nightly-refresh"
    )
    (declared_schedule,) = declared["schedules"]
    lake = copy_lake(refreshed_lake[0], tmp_path)
    deliver_new(lake)
    port = free_port()
    output = tmp_path / "serve.out"
    env = serve_environment(
        tmp_path / "prefect-home", SAMSKAB_DATA_LAKE=str(lake), SAMSKAB_PSEUDONYM_KEY=NEW_DELIVERY_KEY
    )
    started = time.monotonic()
    with start_serve(port, env, output) as serve:
        try:
            ui_url = wait_for_ui_address(serve, output, timeout=180)
            print(f"samskab serve answered after {time.monotonic() - started:.1f} s")
            assert ui_url == f"http://127.0.0.1:{port}"
            said = output.read_text(encoding="utf-8")
            assert "every day at 02:30, Europe/Copenhagen time" in said
            assert "samskab refresh" in said and "Ctrl-C stops the server and the schedule" in said
            assert json.loads((lake / ANNOUNCEMENT).read_text())["url"] == f"{ui_url}/api"

            with temporary_settings(updates={PREFECT_API_URL: f"{ui_url}/api"}), get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("nightly_refresh/nightly-refresh")
                (schedule,) = deployment.schedules
                assert schedule.active
                assert schedule.schedule.cron == declared_schedule["cron"]
                assert schedule.schedule.timezone == "Europe/Copenhagen"
                assert set(deployment.tags) == set(declared["tags"])
                assert deployment.global_concurrency_limit.limit == declared["concurrency_limit"]["limit"]

                triggered = time.monotonic()
                run = client.create_flow_run_from_deployment(deployment.id)
                finished = wait_for(lambda: (r := client.read_flow_run(run.id)).state.is_final() and r, timeout=300)
                assert finished, f"the run did not finish within 300 s:\n{output.read_text()[-3000:]}"
                print(f"the triggered run ended after {time.monotonic() - triggered:.1f} s")
                assert finished.state.is_completed(), f"{finished.state.name}: {finished.state.message}"
                of_this_run = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
                task_names = [task_run.name for task_run in client.read_task_runs(flow_run_filter=of_this_run)]
                for step in ("build marts with dbt", "publish analytics file"):
                    assert any(name.startswith(step) for name in task_names), (step, task_names)
                artifacts = {artifact.key: artifact for artifact in client.read_artifacts(flow_run_filter=of_this_run)}
                assert {"refresh-summary", "dbt-nodes", "row-counts", "loads", "quality-raw"} <= set(artifacts)
            # The run's summary links its documentation where serve serves it, and each page opens.
            docs_url = json.loads((lake / ANNOUNCEMENT).read_text())["docs_url"]
            assert docs_url.startswith("http://127.0.0.1:") and f"{docs_url}/report.html" in said
            links = re.findall(r"\]\(<([^>]+)>\)", str(artifacts["refresh-summary"].data))
            assert all(link.startswith(f"{docs_url}/") for link in links), links
            pages = {link.removeprefix(f"{docs_url}/"): link for link in links}
            assert sorted(pages) == ["dbt/index.html", "report.html", "snapshots/", "validation.html"], links
            for link in links:
                opened = httpx.get(link, timeout=30)
                assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html"), link
            _seen_offline(pages, lake, finished.name, tmp_path / "browser")
            with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as published:
                (classifications,) = published.execute(
                    "select list(distinct classification) from classification_codes"
                ).fetchone()
            assert classifications == [NEW_DELIVERY.stem], "the new delivery is not in the published file"

            # The run's page opens in a browser (which asks for HTML), and the UI there calls this port's API.
            page = httpx.get(f"{ui_url}/runs/flow-run/{run.id}", headers={"accept": "text/html"}, timeout=30)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert httpx.get(f"{ui_url}/ui-settings", timeout=30).json()["api_url"] == f"{ui_url}/api"
            # The run's child process reported to this server, not to a temporary one of its own.
            assert "Starting temporary server" not in output.read_text(encoding="utf-8")

            # A refresh started in another process finds the announced server and reports to it.
            @flow(name="refresh_server_probe")
            def probe() -> str:
                return "reported"

            with refresh_server(lake) as url:
                assert url == f"{ui_url}/api"
                probe_state = probe(return_state=True)
            with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
                probe_run = client.read_flow_run(probe_state.state_details.flow_run_id)
                assert probe_run.state.is_completed()

            serve.send_signal(signal.SIGINT)
            stopping = time.monotonic()
            assert serve.wait(timeout=30) == 0, output.read_text()[-3000:]
            print(f"samskab serve stopped {time.monotonic() - stopping:.1f} s after Ctrl-C")
        finally:
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait()

    assert wait_for(lambda: not living_group_members(serve.pid), timeout=20), (
        f"still running after Ctrl-C: {living_group_members(serve.pid)}"
    )
    assert not (lake / ANNOUNCEMENT).exists()
    assert port_is_free(port)
    print(f"the whole test took {time.monotonic() - started:.1f} s")


def _seen_offline(pages: dict[str, str], lake, run_name: str, profile) -> None:
    """The pages a run's summary links, opened through `samskab serve` in a browser with no network, as a
    person sees them: the report's figures, the project's models drawn by dbt docs' scripts, and every suite
    the run checked with its status. Great Expectations' own index, linked from the checks' page, lists none
    of them: its scripts come from CDNs the browser cannot reach."""
    started = time.monotonic()
    pages = {**pages, DATA_DOCS_INDEX: pages["validation.html"].rsplit("/", 1)[0] + "/" + DATA_DOCS_INDEX}
    with ThreadPoolExecutor(max_workers=len(pages)) as browsers:  # at once: a second less than in turn
        opened = browsers.map(lambda name: open_offline(pages[name], profile / name.replace("/", "-")), pages)
        seen = {name: Seen(dom) for name, dom in zip(pages, opened, strict=True)}
    print(f"the browser read the documentation in {time.monotonic() - started:.1f} s")

    report = seen["report.html"].figures
    assert list(report) == chart_ids()
    titles = {concept.chart_id: concept.question_da for concept in study_concepts()}
    for chart_id, (shown, shapes) in report.items():
        assert shown and shapes > 0, f"the report does not draw {chart_id}: {shown!r}, {shapes} shapes"
        assert shown == titles.get(chart_id, shown), chart_id  # a concept's chart: its question, in Danish

    # The file holds no such element: dbt docs' scripts draw the tree of models from the manifest in it.
    drawn = {
        attributes["data-nav-unique-id"].removeprefix("model.samskab.")
        for _, attributes in seen["dbt/index.html"].elements
        if (attributes.get("data-nav-unique-id") or "").startswith("model.samskab.")
    }
    assert drawn == {path.stem for path in (REPO / "dbt_project" / "models").rglob("*.sql")}

    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as published:
        checked = published.execute(
            "select stage, suite, table_name, bool_and(success), bool_or(not success and severity = 'blocking') "
            "from meta.quality_checks where stage in ('raw', 'drift') group by all"
        ).fetchall()
    expected = {
        (suite, table): PASSED if passed else FAILED if blocking_failed else WARNED
        for _, suite, table, passed, blocking_failed in checked
    }
    assert {stage for stage, *_ in checked} == {"raw", "drift"}  # the drift suites: the lake published before
    checks = seen["validation.html"]
    assert f"Quality checks of run {run_name}" in checks.text
    index = {(row[0], row[1]): row[4] for row in checks.rows if len(row) == 5 and row[0] != "suite"}
    assert index == expected

    # the snapshots' page lists this run's snapshot first, with its report in both languages
    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as published:
        (published_run,) = published.execute("select run_id from meta.runs").fetchone()
    kept = snapshots.listed(Settings(data_lake=lake))[-1]
    assert kept.run_prefix == published_run.replace("-", "")[:8]
    assert seen["snapshots/"].links[:2] == [f"{kept.path.stem}.html", f"{kept.path.stem}.en.html"]

    assert DATA_DOCS_INDEX in checks.links
    offline = seen[DATA_DOCS_INDEX].text
    assert "Data Docs" in offline and [suite for suite, _ in expected if suite in offline] == []


def test_an_announcement_names_a_server_only_while_one_answers(tmp_path):
    assert running_server_url(tmp_path) is None  # nothing announced

    announcement = tmp_path / ANNOUNCEMENT
    with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
        gone.wait()
    nobody_listens = f"http://127.0.0.1:{free_port()}/api"
    for record in (
        {"url": nobody_listens, "ui_url": "", "pid": gone.pid},  # the process is dead
        {"url": nobody_listens, "ui_url": "", "pid": os.getpid()},  # alive, but nothing answers on the port
    ):
        announcement.write_text(json.dumps(record))
        assert running_server_url(tmp_path) is None
        assert not announcement.exists(), "a stale announcement is removed"

    announcement.write_text("{half a file")
    assert running_server_url(tmp_path) is None
    assert not announcement.exists()


def test_a_killed_parent_takes_its_prefect_server_with_it(tmp_path):
    parent_script = (
        "import time\n"
        "from samskab.operate.prefect_server import start_local_server\n"
        "server = start_local_server()\n"
        "print(server.pid, server.port, flush=True)\n"
        "time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", parent_script],
        cwd=ROOT,
        env=serve_environment(tmp_path / "prefect-home"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as parent:
        try:
            started = time.monotonic()
            line = parent.stdout.readline()  # start_local_server gives up after 120 s, and the parent with it
            assert line, f"the parent printed nothing (exit code {parent.poll()})"
            print(f"the server answered after {time.monotonic() - started:.1f} s")
            server_pid, port = (int(word) for word in line.split())
            assert living(server_pid) and not port_is_free(port)
        finally:
            parent.kill()
            parent.wait()
    try:
        assert wait_for(lambda: not living(server_pid), timeout=20), "the server outlived its SIGKILLed parent"
        assert wait_for(lambda: port_is_free(port), timeout=5)
        assert living_group_members(server_pid) == []
    finally:
        if living(server_pid):
            os.killpg(server_pid, signal.SIGKILL)
