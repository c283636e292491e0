"""Benchmark: what a refresh costs at scale 1, 10 and 100 of the sample, beside a running Prefect server.

For each scale, a new data lake holding the sample at that scale (`samskab sample --scale N`: every head
answers each survey wave N times, as re-submissions in the wave's export, so scale 100 is 6.6 million raw
answer rows) and a copy of the dbt project (so one mart's code can be changed), with a pseudonym key set
(a corrected case register is no longer the synthetic sample), and the raw tables' row-count bands
widened by the scale (see scaled_suites; every other check as committed). Each scenario is a fresh process, as a
researcher or the schedule starts it, measured for wall time, CPU time and peak memory (its own, from
the kernel), and for time per stage (from the run's log):

1. first refresh, with the 2019 export held back;
2. one new survey delivery: the 2019 export arrives;
3. no-op: nothing changed;
4. a corrected case register (one activity's duration);
5. a code change in one mart (`case_fieldwork.sql`);
6. full refresh: `samskab refresh --force`;
7. the floor: benchmarks/floor.py, the same models as plain SQL in DuckDB (no tests, checks or publish);
8. a bare `dbt build` of the same project on the same warehouse;
and `samskab status` and `samskab sql "select 1"`.

Results go to benchmarks/results/scale.json and scale.md, with the targets as ratios measured
in this one run. A measurement, not a test: it never fails on a slow machine.

    python benchmarks/scale.py [--scales 1 10 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from written import write_results

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY = "a-benchmark-key-not-used-for-any-real-data-0123456789"

# The run's stages, by the Prefect task names of flows/nightly_refresh.py that end them.
STAGES = {
    "clean up after interrupted runs": "look for changes",
    "fetch registry data": "look for changes",
    "look for changes": "look for changes",
    "survey the landing zone": "ingest",
    "ingest ": "ingest",
    "withdraw removed deliveries": "ingest",
    "review what landed": "ingest",
    "check raw data": "raw gate",
    "build marts with dbt": "dbt build",
    "build candidate analytics file": "candidate",
    "check marts": "drift gate",
    "publish analytics file": "publish",
    "build documentation": "docs",
}
STAGE_ORDER = ["start", "look for changes", "ingest", "raw gate", "dbt build", "candidate", "drift gate", "publish"]
STAGE_ORDER += ["docs", "end"]
LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \| \w+ +\| (Flow run|Task run) '([^']*)' - (.*)$")


@dataclass
class Measured:
    scenario: str
    wall_s: float
    cpu_s: float
    peak_mb: float
    stages: dict[str, float] = field(default_factory=dict)
    note: str = ""


def tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants now, in bytes (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grown = {root}, True
    while grown:
        added = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= added
        grown = bool(added)
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


def run(argv: list[str], env: dict[str, str], scenario: str, cwd: Path = REPO) -> tuple[Measured, str]:
    """Run one command in a fresh process; its wall time, CPU time (its own and its children's, from the
    kernel) and peak memory: the resident memory of the process and every process it started, summed,
    sampled every 0.1 s (the run's Great Expectations process runs beside it)."""
    started_at = time.time()
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 3):  # 3: published, but landing files need attention
        raise SystemExit(f"{scenario}: {' '.join(argv[:3])} ended {process.returncode}:\n{output[-3000:]}")
    peak_bytes = max(peak[0], usage.ru_maxrss * 1024)
    measured = Measured(scenario, round(wall, 2), round(usage.ru_utime + usage.ru_stime, 2), round(peak_bytes / 2**20))
    measured.stages = stages_of(output, started_at, started_at + wall)
    return measured, output


def stages_of(output: str, started_at: float, ended_at: float) -> dict[str, float]:
    """Seconds per stage, from the run's log: each task's end minus the end of the one before it (so the
    orchestration between tasks counts to the task after it); start is the process's own start up to the
    flow's first line, end from the flow's last line to the process's exit."""
    day = datetime.fromtimestamp(started_at, UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    events = []
    for line in output.splitlines():
        found = LOG_LINE.match(line)
        if found:
            hours, minutes, seconds, kind, name, text = found.groups()
            at = day + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            at += 86400 if at < started_at - 60 else 0  # past midnight
            events.append((at, kind, name, text))
    flow_events = [event for event in events if event[1] == "Flow run"]
    if not flow_events:
        return {}
    stages = dict.fromkeys(STAGE_ORDER, 0.0)
    stages["start"] = flow_events[0][0] - started_at
    previous = flow_events[0][0]
    for at, kind, name, text in events:
        if kind == "Task run" and text.startswith("Finished in state"):
            task = name.rsplit("-", 1)[0] if not name.startswith("ingest ") else "ingest "
            stage = STAGES.get(task, "look for changes")
            stages[stage] += at - previous
            previous = at
    stages["end"] = ended_at - previous
    return {name: round(seconds, 2) for name, seconds in stages.items() if seconds}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_prefect_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the Prefect server did not answer within 3 minutes")


def correct_case_register(register: Path) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(register)
    sheet = workbook["Aktiviteter"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("varighed_min") + 1)
    cell.value = int(cell.value or 0) + 5
    workbook.save(register)


def change_one_mart(project: Path) -> None:
    mart = project / "models" / "marts" / "case_fieldwork.sql"
    mart.write_text(mart.read_text(encoding="utf-8") + "\n-- a code change (benchmark)\n", encoding="utf-8")


def scaled_suites(scale: int, folder: Path) -> Path:
    """The committed expectation suites, with each raw table's row-count band widened `scale` times: the
    bands are sized for the study (a wave is 784 heads), and the sample at scale 100 is a hundred times
    that, by design. Every other check is as committed."""
    shutil.copytree(REPO / "expectations", folder)
    for path in folder.glob("raw_*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for expectation in suite["expectations"]:
            if expectation["type"] == "expect_table_row_count_to_be_between" and expectation["kwargs"].get("max_value"):
                expectation["kwargs"]["max_value"] *= scale
        path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def bench_scale(scale: int, root: Path, api_url: str) -> dict:
    lake, project = root / "data_lake", root / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs"))
    env = {
        **os.environ,
        "SAMSKAB_DATA_LAKE": str(lake),
        "SAMSKAB_DBT_PROJECT_DIR": str(project),
        "SAMSKAB_EXPECTATIONS_DIR": str(scaled_suites(scale, root / "expectations")),
        "SAMSKAB_PSEUDONYM_KEY": KEY,
        "PREFECT_API_URL": api_url,
    }
    samskab = str(BIN / "samskab")
    generated = time.perf_counter()
    subprocess.run([samskab, "sample", "--scale", str(scale)], env=env, cwd=REPO, check=True, capture_output=True)
    generated = time.perf_counter() - generated
    held_back = root / "held_back"
    shutil.move(lake / "landing" / "survey" / "opfoelgning_2019", held_back)
    measured: list[Measured] = []

    def refresh(scenario: str, *extra: str) -> Measured:
        result, output = run([samskab, "refresh", *extra], env, scenario)
        if "Building what changed" in output:
            result.note = "partial build"
        elif "Building every model" in output:
            result.note = "full build"
        elif "Nothing changed since run" in output:
            result.note = "nothing to do"
        measured.append(result)
        print(f"  scale {scale}: {scenario}: {result.wall_s:.1f} s ({result.note})", flush=True)
        return result

    refresh("first refresh (2019 export held back)")
    shutil.move(held_back, lake / "landing" / "survey" / "opfoelgning_2019")
    refresh("one new survey delivery")
    refresh("no-op")
    correct_case_register(lake / "landing" / "cases" / "case_register.xlsx")
    refresh("corrected case register")
    change_one_mart(project)
    refresh("code change in one mart")
    refresh("full refresh (--force)", "--force")

    warehouse = lake / "warehouse" / "warehouse.duckdb"
    floor, output = run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "floor.py"),
            str(warehouse),
            str(lake / "warehouse" / "dbt_target" / "manifest.json"),
        ],
        env,
        "floor (plain SQL in DuckDB)",
    )
    floor_detail = json.loads(output.strip().splitlines()[-1])
    floor.note = f"{floor_detail['models']} models; copy {floor_detail['copy_s']} s, SQL {floor_detail['sql_s']} s"
    measured.append(floor)
    bare, _ = run(
        [
            str(BIN / "dbt"),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(lake / "warehouse" / "dbt_target"),
            "--log-path",
            str(root / "dbt_logs"),
            "--quiet",
        ],
        {**env, "SAMSKAB_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        "bare dbt build",
    )
    measured.append(bare)
    status, _ = run([samskab, "status"], env, "samskab status")
    sql, _ = run([samskab, "sql", "select 1"], env, 'samskab sql "select 1"')
    measured += [status, sql]
    for extra in measured[-3:]:
        print(f"  scale {scale}: {extra.scenario}: {extra.wall_s:.1f} s", flush=True)

    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        raw_answers = connection.execute("select count(*) from raw.survey_answers").fetchone()[0]
    return {
        "scale": scale,
        "raw_answer_rows": raw_answers,
        "sample_generated_s": round(generated, 1),
        "measured": [asdict(result) for result in measured],
    }


def ratios(result: dict) -> dict[str, float]:
    by = {measured["scenario"]: measured for measured in result["measured"]}
    full = by["full refresh (--force)"]["wall_s"]
    return {
        "new_survey_delivery_to_full": round(by["one new survey delivery"]["wall_s"] / full, 3),
        "corrected_case_register_to_full": round(by["corrected case register"]["wall_s"] / full, 3),
        "code_change_to_full": round(by["code change in one mart"]["wall_s"] / full, 3),
        "noop_to_full": round(by["no-op"]["wall_s"] / full, 3),
        "full_to_bare_dbt_build": round(full / by["bare dbt build"]["wall_s"], 3),
        "full_to_floor": round(full / by["floor (plain SQL in DuckDB)"]["wall_s"], 3),
        "status_s": by["samskab status"]["wall_s"],
        "sql_select_1_s": by['samskab sql "select 1"']["wall_s"],
        "full_peak_mb": by["full refresh (--force)"]["peak_mb"],
    }


def record(results: list[dict], machine: dict) -> None:
    for result in results:
        result["ratios"] = ratios(result)
    growth = {}
    by_scale = {result["scale"]: result for result in results}
    if 10 in by_scale and 100 in by_scale:
        ten, hundred = by_scale[10]["measured"], by_scale[100]["measured"]
        full = "full refresh (--force)"
        wall = {m["scenario"]: m for m in ten}[full], {m["scenario"]: m for m in hundred}[full]
        growth = {
            "full_refresh_time_10_to_100": round(wall[1]["wall_s"] / wall[0]["wall_s"], 2),
            "full_refresh_peak_memory_10_to_100": round(wall[1]["peak_mb"] / wall[0]["peak_mb"], 2),
        }
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "scales": results,
        "growth": growth,
    }
    write_results("scale", document, markdown(document))


def targets(document: dict) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each target the scales measured in this run."""
    by_scale = {result["scale"]: result["ratios"] for result in document["scales"]}
    rows = []
    if 1 in by_scale:
        r = by_scale[1]
        rows += [
            (
                "scale 1: a corrected case register at most 0.35 of a full refresh",
                f"{r['corrected_case_register_to_full']:.2f}",
                r["corrected_case_register_to_full"] <= 0.35,
            ),
            (
                "scale 1: one new survey delivery at most 0.35 of a full refresh",
                f"{r['new_survey_delivery_to_full']:.2f}",
                r["new_survey_delivery_to_full"] <= 0.35,
            ),
            (
                "scale 1: full refresh at most 1.3x a bare dbt build",
                f"{r['full_to_bare_dbt_build']:.2f}x",
                r["full_to_bare_dbt_build"] <= 1.3,
            ),
        ]
    if 100 in by_scale:
        r = by_scale[100]
        rows += [
            ("scale 100: full refresh at most 3x the floor", f"{r['full_to_floor']:.1f}x", r["full_to_floor"] <= 3),
            ("scale 100: peak memory under 4 GB", f"{r['full_peak_mb']:,.0f} MB", r["full_peak_mb"] < 4096),
        ]
    for name, value in document["growth"].items():
        rows.append(
            (
                f"scale 10 to 100: {name.replace('_10_to_100', '').replace('_', ' ')} grows at most 12x",
                f"{value}x",
                value <= 12,
            )
        )
    for scale, r in by_scale.items():
        rows += [
            (
                f"scale {scale}: no-op under 0.05 of a full refresh",
                f"{r['noop_to_full']:.3f}",
                r["noop_to_full"] < 0.05,
            ),
            (f"scale {scale}: `samskab status` under 1 s", f"{r['status_s']:.2f} s", r["status_s"] < 1),
            (
                f'scale {scale}: `samskab sql "select 1"` under 1 s',
                f"{r['sql_select_1_s']:.2f} s",
                r["sql_select_1_s"] < 1,
            ),
        ]
    return rows


def markdown(document: dict) -> str:
    machine = document["machine"]
    lines = [
        "# Refresh at scale",
        "",
        f"Measured {document['measured_at']} on {machine['cpus']} CPUs, {machine['memory_gb']} GB, "
        f"{machine['system']}, Python {machine['python']}; each scenario a fresh process beside a running "
        "Prefect server (benchmarks/scale.py). Stages in seconds, from the run's log.",
        "",
    ]
    for result in document["scales"]:
        lines += [
            f"## Scale {result['scale']}: {result['raw_answer_rows']:,} raw answer rows",
            "",
            "| scenario | wall s | CPU s | peak MB | " + " | ".join(STAGE_ORDER) + " | note |",
            "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in STAGE_ORDER) + " | --- |",
        ]
        for m in result["measured"]:
            stages = " | ".join(f"{m['stages'][name]:.1f}" if name in m["stages"] else "" for name in STAGE_ORDER)
            lines.append(
                f"| {m['scenario']} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['peak_mb']:,.0f} | {stages} | "
                f"{m['note']} |"
            )
        r = result["ratios"]
        lines += [
            "",
            f"Ratios: one new survey delivery {r['new_survey_delivery_to_full']:.2f} of a full refresh, a corrected "
            f"case register {r['corrected_case_register_to_full']:.2f}, a code change in one mart "
            f"{r['code_change_to_full']:.2f}, no-op {r['noop_to_full']:.3f}; full refresh "
            f"{r['full_to_bare_dbt_build']:.2f}x a bare dbt build and {r['full_to_floor']:.1f}x the floor; "
            f'status {r["status_s"]:.2f} s, sql "select 1" {r["sql_select_1_s"]:.2f} s.',
            "",
        ]
    rows = targets(document)
    if rows:
        lines += ["## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
        lines += [f"| {target} | {measured} | {'yes' if met else '**no**'} |" for target, measured, met in rows]
        lines.append("")
    if document["growth"]:
        g = document["growth"]
        lines += [
            f"From scale 10 to 100: full refresh time x{g['full_refresh_time_10_to_100']}, peak memory "
            f"x{g['full_refresh_peak_memory_10_to_100']}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    machine = {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory(prefix="samskab-scale-") as folder:
        root = Path(folder)
        server, url = start_prefect_server(root / "prefect")
        try:
            results = []
            for scale in args.scales:
                print(f"Scale {scale} ...", flush=True)
                results.append(bench_scale(scale, root / f"scale-{scale}", url))
                record(results, machine)
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
