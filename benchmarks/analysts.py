"""Benchmark: the analysts' commands, as an analyst types them, on the published embedded sample.

In a new data lake refreshed once, side by side in one run, each command in a fresh process (wall time):
- `samskab sql "select 1"` (the start-up an analyst waits for; the issue's target is under a second), and
  `samskab --help` beside it for scale;
- a cookbook-sized query, on the published file and `--as-of` today's snapshot;
- `samskab export --all` in each format;
- `samskab report --as-of` today (drawing the report anew).

Results go to benchmarks/results/analysts.json and .md. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from written import write_results

REPO = Path(__file__).resolve().parents[1]
SAMSKAB = Path(sys.executable).with_name("samskab")
QUERY = (
    "select item_name_en, round(share, 3) as share from motives "
    "where breakdown = 'all' and answer_category = 'selected' and wave_id = '2019' order by share desc"
)
FORMATS = ("parquet", "csv", "xlsx", "sav", "dta")


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(SAMSKAB), *argv], env=env, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, f"samskab {' '.join(argv)} failed: {done.stderr[-2000:]}"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each quick command (median reported)")
    args = parser.parse_args()
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date().isoformat()
    with tempfile.TemporaryDirectory(prefix="samskab-bench-") as root:
        env = {
            **os.environ,
            "SAMSKAB_DATA_LAKE": str(Path(root) / "data_lake"),
            "PREFECT_HOME": str(Path(root) / "prefect"),
        }  # `samskab` switches the stack's usage reporting off itself
        env.pop("SAMSKAB_PSEUDONYM_KEY", None)  # the embedded sample runs on its demo key
        subprocess.run([str(SAMSKAB), "sample"], env=env, cwd=REPO, check=True, capture_output=True)
        subprocess.run([str(SAMSKAB), "refresh"], env=env, cwd=REPO, check=True, capture_output=True)
        quick: dict[str, list[float]] = {"sql_start": [], "help": [], "sql_query": [], "sql_as_of": []}
        for _ in range(args.repeat):
            quick["sql_start"].append(timed(["sql", "select 1"], env))
            quick["help"].append(timed(["--help"], env))
            quick["sql_query"].append(timed(["sql", QUERY], env))
            quick["sql_as_of"].append(timed(["sql", "--as-of", today, QUERY], env))
        exports = {fmt: timed(["export", "--all", "--format", fmt, "--to", f"{root}/{fmt}"], env) for fmt in FORMATS}
        report = timed(["report", "--as-of", today, "--no-open", "--to", f"{root}/report"], env)
    medians = {name: round(statistics.median(values), 3) for name, values in quick.items()}
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "median_s": medians,
        "export_all_s": {fmt: round(seconds, 2) for fmt, seconds in exports.items()},
        "report_s": round(report, 2),
        "targets": {"sql_start": 1.0},
    }
    lines = [
        "# Analysts' commands",
        "",
        f"Measured {result['measured_at']} on {result['machine']['cpus']} CPUs, Python {result['machine']['python']},"
        " the embedded sample published once, each command in a fresh process.",
        "",
        "| command | seconds | note |",
        "| --- | --- | --- |",
        f'| `samskab sql "select 1"` | {medians["sql_start"]:.2f} | median of {args.repeat}; target under 1 s; '
        f"{medians['sql_start'] / medians['help']:.1f} times `samskab --help` ({medians['help']:.2f} s) |",
        f"| `samskab sql` a cookbook query | {medians['sql_query']:.2f} | median of {args.repeat} |",
        f"| the same `--as-of` today | {medians['sql_as_of']:.2f} | median of {args.repeat} |",
        *(f"| `samskab export --all --format {fmt}` | {seconds:.1f} | 20 marts |" for fmt, seconds in exports.items()),
        f"| `samskab report --as-of` today | {report:.1f} | drawing the report anew |",
    ]
    write_results("analysts", result, "\n".join(lines))


if __name__ == "__main__":
    main()
