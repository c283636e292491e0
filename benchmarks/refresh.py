"""Benchmark: a refresh with nothing new against a full one, and the commands a person waits for.

In a new data lake holding the embedded sample, side by side in one run, each as a researcher types it
(`samskab ...` in a fresh process, wall time):
- `samskab refresh` the first time (a full refresh: ingest, dbt, the gate, publish);
- `samskab refresh --force` (every stage again, on the same inputs: the full refresh to compare with);
- `samskab refresh` with nothing changed (the no-op), several times;
- `samskab status` and `samskab --help`, several times.

Targets from the issue: the no-op at most 0.10 of a full refresh; `samskab status` under 1 s. Results go
to benchmarks/results/refresh.json and .md. A measurement, not a test: it never fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SAMSKAB = Path(sys.executable).with_name("samskab")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run([str(SAMSKAB), *argv], env=env, cwd=REPO, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each quick command (median reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="samskab-bench-") as root:
        env = {
            **os.environ,
            "SAMSKAB_DATA_LAKE": str(Path(root) / "data_lake"),
            "PREFECT_HOME": str(Path(root) / "prefect"),
        }  # `samskab` switches the stack's usage reporting off itself
        env.pop("SAMSKAB_PSEUDONYM_KEY", None)  # the embedded sample runs on its demo key
        subprocess.run([str(SAMSKAB), "sample"], env=env, cwd=REPO, check=True, capture_output=True)
        first, code, _ = timed(["refresh"], env)
        assert code == 0, "the first refresh did not publish"
        forced, code, _ = timed(["refresh", "--force"], env)
        assert code == 0, "the forced refresh did not publish"
        noops, statuses, helps = [], [], []
        for _ in range(args.repeat):
            seconds, code, out = timed(["refresh"], env)
            assert code == 0 and "Nothing changed since run" in out, out
            noops.append(seconds)
            statuses.append(timed(["status"], env)[0])
            helps.append(timed(["--help"], env)[0])
    noop = statistics.median(noops)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "first_refresh_s": round(first, 2),
        "forced_refresh_s": round(forced, 2),
        "noop_refresh_s": round(noop, 2),
        "noop_refresh_runs_s": [round(value, 2) for value in noops],
        "noop_to_full_ratio": round(noop / forced, 3),
        "status_s": round(statistics.median(statuses), 3),
        "help_s": round(statistics.median(helps), 3),
        "targets": {"noop_to_full_ratio": 0.10, "status_s": 1.0},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "refresh.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Refresh benchmark",
        "",
        f"Measured {result['measured_at']} on {result['machine']['cpus']} CPUs, Python {result['machine']['python']},"
        " the embedded sample, each command in a fresh process as a researcher types it.",
        "",
        "| command | seconds | note |",
        "| --- | --- | --- |",
        f"| `samskab refresh` (first: nothing published yet) | {first:.1f} | full |",
        f"| `samskab refresh --force` (every stage again) | {forced:.1f} | the full refresh compared with |",
        f"| `samskab refresh` with nothing changed | {noop:.2f} | median of {len(noops)}; "
        f"**{result['noop_to_full_ratio']:.3f} of the full one** (target at most 0.10) |",
        f"| `samskab status` | {result['status_s']:.2f} | median of {len(statuses)} (target under 1 s) |",
        f"| `samskab --help` | {result['help_s']:.2f} | median of {len(helps)} |",
    ]
    (RESULTS / "refresh.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
