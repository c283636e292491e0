"""Lineage of a published file: which run built it, from which code and input files, with what result.

Written into the published file's `meta` schema, so an analyst (and `samskab status`) can always tell
what they are looking at without asking anybody.
"""

from __future__ import annotations

import dataclasses
import subprocess
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata

import pandas as pd

from samskab.common.duckdb_files import read_only_frames
from samskab.common.settings import REPO_ROOT, Settings


def code_version() -> str:
    """The git commit the platform runs from (with '-dirty' for uncommitted changes), else the package version."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"samskab {metadata.version('samskab')} (not a git checkout)"


@dataclass
class RunRecord:
    run_id: str
    flow_run_name: str
    started_at: datetime
    finished_at: datetime
    code_version: str
    gate_passed: bool
    verdict: str
    # What the file was built from (samskab/operate/fingerprint.py): a refresh with the same inputs has nothing to do.
    inputs_fingerprint: str = ""
    inputs_parts: str = ""
    # Which key made the pseudonyms of the raw layer the file was built from (its fingerprint, never the key).
    pseudonym_key_fingerprint: str = ""


def raw_key_fingerprint(settings: Settings) -> str:
    """The fingerprint of the key the raw layer's pseudonyms are made with, as the raw layer records it."""
    frame = read_only_frames(settings.warehouse_path, {"key": "select key_fingerprint from raw.pseudonym_key"})["key"]
    return str(frame["key_fingerprint"].iloc[0]) if len(frame) == 1 else ""


def warehouse_lineage(settings: Settings) -> dict[str, pd.DataFrame]:
    """From the warehouse: the current version of every landing file (sha256, counts), every file
    withdrawn from the landing zone, every landing row that did not reach the raw layer (file, row and
    reason, never its values), what ingest noted about each delivery, and the tables the sources declare
    as lineage (such as which survey exports are mapped to a wave of the study)."""
    from samskab.ingest.sources.registry import SOURCES

    described = {
        table: f"select * exclude (source_row) from raw.{table} order by all"
        for source in SOURCES
        for table in source.published_lineage
    }
    return read_only_frames(
        settings.warehouse_path,
        {
            **described,
            "delivery_notes": "select source, delivery, note, run_id, noted_at from raw.delivery_notes "
            "order by delivery, noted_at",
            "input_files": "select source, delivery, file, sha256, n_bytes, n_rows, n_rejected, "
            "run_id as loaded_in_run, loaded_at from raw.ingest_ledger where status = 'current' order by source, file",
            "withdrawn_files": "select source, delivery, file, sha256, n_rows, run_id as loaded_in_run, "
            "status_changed_in_run as withdrawn_in_run, status_changed_at as withdrawn_at "
            "from raw.ingest_ledger where status = 'withdrawn' order by withdrawn_at, file",
            "rejected_rows": "select source, delivery, file, sheet, line, column_name, reason, run_id, rejected_at "
            "from raw.rejected_rows order by file, line",
        },
    )


def meta_tables(
    run: RunRecord,
    warehouse: dict[str, pd.DataFrame],
    landing_files: list,
    row_counts: dict[str, int],
    checks: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The `meta` schema of a published file, as DataFrames by table name."""
    versions = {
        name: metadata.version(name) for name in ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "prefect")
    }
    run_frame = pd.DataFrame(
        [
            {
                "run_id": run.run_id,
                "flow_run_name": run.flow_run_name,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "code_version": run.code_version,
                "gate_passed": run.gate_passed,
                "verdict": run.verdict,
                "inputs_fingerprint": run.inputs_fingerprint,
                "inputs_parts": run.inputs_parts,
                "pseudonym_key_fingerprint": run.pseudonym_key_fingerprint,
                **{f"{name.replace('-', '_')}_version": value for name, value in versions.items()},
            }
        ]
    )
    counts = pd.DataFrame(sorted(row_counts.items()), columns=["table_name", "n_rows"])
    landing = pd.DataFrame(
        [dataclasses.asdict(row) for row in landing_files], columns=["file", "source", "delivery", "state", "reason"]
    )
    return {**warehouse, "runs": run_frame, "landing_files": landing, "row_counts": counts, "quality_checks": checks}
