"""Benchmark: ingest of a large survey export, wall time and peak memory (`make bench`).

Generates a SurveyXact export of 100,000 respondents by 100 questionnaire variables (10 M answer cells,
plus SurveyXact's background, status and identifier variables) in SurveyXact's tab-separated UTF-16
shape, and ingests it into a new warehouse in a child process: read, pseudonymise, reshape to long
format, load into DuckDB. Then, side by side in the same run, the same questionnaire at a tenth of the
size in every shape a researcher receives, so the shapes can be compared as ratios.

Results go to benchmarks/results/ (JSON, and a Markdown table). Targets from the issue: under 30 s and
under 2 GB for the 10 M-cell export on a 2-core machine. This is a measurement, not a test: it never
fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from written import write_results

REPO = Path(__file__).resolve().parents[1]
CODES = np.array(["1", "2", "3", "4", "9", ""])
WEIGHTS = [0.3, 0.25, 0.15, 0.1, 0.05, 0.15]


def write_large_export(folder: Path, n_respondents: int, n_items: int, seed: int = 2016) -> int:
    """A SurveyXact export (UTF-16, tab) of the given size; returns the number of item answer cells."""
    from samskab.common.reference import seed_rows

    rng = np.random.default_rng(seed)
    names = {row["kommunekode"]: row["navn"] for row in seed_rows("municipalities")}
    municipalities = list(names)
    items = [f"q{index}" for index in range(1, n_items + 1)]
    statuses = [f"stato_{code}" for code in range(1, 6)]
    header = ["responde", "survey", "created", "closetim", "email", "name", "kommune", "sektor", *items, *statuses]
    codes = rng.choice(CODES, size=(n_respondents, n_items), p=WEIGHTS)
    status = rng.choice([2, 3, 4], size=n_respondents, p=[0.5, 0.1, 0.4])
    kommune = rng.choice(municipalities, size=n_respondents)
    sektor = rng.integers(1, 9, size=n_respondents)
    lines = ["\t".join(header)]
    for index in range(n_respondents):
        closed = "2016-03-02 10:00:00" if status[index] == 4 else ""
        flags = ["1" if status[index] == code else "0" for code in range(1, 6)]
        lines.append(
            "\t".join(
                [
                    str(90_000_000 + index),
                    "2016001",
                    "2016-03-01 09:00:00",
                    closed,
                    f"person{index}@example.dk",
                    f"Person {index}",
                    kommune[index],
                    str(sektor[index]),
                    *codes[index],
                    *flags,
                ]
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.csv").write_bytes(_utf16("\n".join(lines) + "\n"))
    structure = ["questionName\tvariableName\tquestionType\tsubType\tquestionText\tchoiceValue\tchoiceText\t"]
    structure += [
        "respondentid\tresponde\tOpen\tDouble\tRespondent-ID\t\t\t",
        "survey\tsurvey\tClosed\tSingle\tUndersøgelse\t\t\t",
        "created\tcreated\tOpen\tDate\tOprettet\t\t\t",
        "closeTime\tclosetim\tOpen\tDate\tAfsluttet\t\t\t",
        "email\temail\tOpen\tString\tE-mail\t\t\t",
        "name\tname\tOpen\tString\tNavn\t\t\t",
        "kommune\tkommune\tClosed\tSingle\tKommune\t\t\t",
        "sektor\tsektor\tClosed\tSingle\tSektorområde\t\t\t",
    ]
    structure += [f"{item}\t{item}\tClosed\tSingle\tSpørgsmål {item}\t\t\t" for item in items]
    structure += [
        f"statoverall\tstato_{code}\tClosed\tMultiple\tSamlet status\t{code}\tStatus {code}\t" for code in range(1, 6)
    ]
    (folder / "structure.csv").write_bytes(_utf16("\r\n".join(structure) + "\r\n"))
    labels = ['"survey"\t2016001\t"Benchmark"']
    labels += [f'"kommune"\t{code}\t"{names[code]} Kommune"' for code in municipalities]
    labels += [f'"sektor"\t{code}\t"Sektor {code}"' for code in range(1, 9)]
    scale = [("1", "Altid eller ofte"), ("2", "Nogle gange"), ("3", "Sjældent"), ("4", "Aldrig"), ("9", "Ved ikke")]
    labels += [f'"{item}"\t{value}\t"{label}"' for item in items for value, label in scale]
    labels += [
        f'"{status}"\t{value}\t"{label}"'
        for status in statuses
        for value, label in (("0", "Ikke valgt"), ("1", "Valgt"))
    ]
    (folder / "labels.csv").write_bytes(_utf16("\r\n".join(labels) + "\r\n"))
    return int(n_respondents * n_items)


def _utf16(text: str) -> bytes:
    return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")


def peak_kib() -> int:
    """This process's peak resident memory since it started its program (VmHWM). Unlike ru_maxrss, it
    does not carry over the memory of the process that launched it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def ingest_in_child(lake: Path) -> dict:
    """Ingest the lake's landing zone in a fresh process; its wall time and peak resident memory."""
    code = (
        "import json, time, os, sys;"
        # This file imports its neighbours by their names (written.py), as when run as a script.
        "sys.path.insert(0, 'benchmarks');"
        "from ingest_survey import peak_kib;"
        "from samskab.common.settings import Settings;"
        "from samskab.ingest.deliveries import ingest_landing_zone;"
        "from samskab.ingest.pseudonyms import Pseudonymiser;"
        "started = time.perf_counter();"
        f"report = ingest_landing_zone(Settings(data_lake={str(lake)!r}), 'bench', Pseudonymiser(b'b' * 32));"
        "seconds = time.perf_counter() - started;"
        "print(json.dumps({'seconds': seconds, 'states': [l.state for l in report.loads], "
        "'rows': {t: sum(l.rows.get(t, 0) for l in report.loads) for l in report.loads for t in l.rows},"
        "'rejected': sum(l.n_rejected for l in report.loads),"
        "'peak_kib': peak_kib()}))"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    wall = time.perf_counter() - started
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "process_seconds": round(wall, 2),
        "ingest_seconds": round(measured["seconds"], 2),
        "peak_memory_mb": round(measured["peak_kib"] / 1024, 1),
        "states": measured["states"],
        "rows": measured["rows"],
        "rejected": measured["rejected"],
    }


def bench_large(work: Path, n_respondents: int, n_items: int) -> dict:
    lake = work / "large" / "data_lake"
    export = lake / "landing" / "survey" / "samskabelse_bench"
    started = time.perf_counter()
    cells = write_large_export(export, n_respondents, n_items)
    generated = time.perf_counter() - started
    size = sum(path.stat().st_size for path in export.iterdir())
    result = ingest_in_child(lake)
    return {
        "respondents": n_respondents,
        "questionnaire_variables": n_items,
        "answer_cells": cells,
        "export_bytes": size,
        "generate_seconds": round(generated, 2),
        **result,
    }


def bench_shapes(work: Path, scale: int) -> list[dict]:
    """The embedded sample's two waves, every head answering each `scale` times, in every shape; one ingest each."""
    from samskab.sample.generate import generate_sample
    from samskab.sample.survey_shapes import SHAPES

    rows = []
    for shape in SHAPES:
        lake = work / "shapes" / shape / "data_lake"
        generate_sample(lake / "landing", scale=scale, survey_shape=shape)
        for folder in ("statbank", "cases"):  # the survey export alone (the sample may not write a folder)
            shutil.rmtree(lake / "landing" / folder, ignore_errors=True)
        result = ingest_in_child(lake)
        rows.append({"shape": shape, **result})
    reference = next(row for row in rows if row["shape"] == "surveyxact-utf16")["ingest_seconds"]
    for row in rows:
        row["ratio_to_utf16"] = round(row["ingest_seconds"] / reference, 2) if reference else None
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--variables", type=int, default=100)
    parser.add_argument(
        "--shape-scale",
        type=int,
        default=10,
        help="sample scale per shape (two waves, every head answering each that many times)",
    )
    args = parser.parse_args()
    os.environ.setdefault("SAMSKAB_PSEUDONYM_KEY", "benchmark-key-not-a-secret-0123456789")
    with tempfile.TemporaryDirectory(prefix="samskab-bench-") as directory:
        work = Path(directory)
        large = bench_large(work, args.respondents, args.variables)
        shapes = bench_shapes(work, args.shape_scale)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "targets": {"ingest_seconds": 30, "peak_memory_mb": 2048},
        "large_export": large,
        "shapes": shapes,
    }
    write_results("ingest_survey", result, _markdown(result))
    return 0


def _markdown(result: dict) -> str:
    large = result["large_export"]
    lines = [
        "# Survey ingest benchmark",
        "",
        f"Measured {result['measured_at']} on {result['machine']['cpus']} CPUs, Python {result['machine']['python']}.",
        "",
        f"**Large export** ({large['respondents']:,} respondents x {large['questionnaire_variables']} variables = "
        f"{large['answer_cells']:,} answer cells; SurveyXact UTF-16, {large['export_bytes'] / 1e6:.0f} MB): "
        f"ingest {large['ingest_seconds']} s (process {large['process_seconds']} s, target < 30 s), "
        f"peak memory {large['peak_memory_mb']:,} MB (target < 2,048 MB); "
        f"{large['rows'].get('survey_answers', 0):,} answer rows loaded, {large['rejected']} rejected.",
        "",
        "**Every shape side by side** (the embedded sample's questionnaire, same answers in each):",
        "",
        "| shape | ingest s | ratio to UTF-16 CSV | peak MB | answers loaded |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {row['shape']} | {row['ingest_seconds']} | {row['ratio_to_utf16']} | {row['peak_memory_mb']} | "
        f"{row['rows'].get('survey_answers', 0):,} |"
        for row in result["shapes"]
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
