"""The floor: the same marts computed from the same raw tables as plain SQL in DuckDB, and nothing else.

    python benchmarks/floor.py WAREHOUSE MANIFEST

Copies the warehouse (raw tables and reference seeds as the refresh left them) into a temporary folder,
drops every model, and runs the SQL dbt compiled for each model (the `compiled_code` of dbt's manifest of
a build) in dependency order, as a view or a table as the project declares: no dbt, no tests, no checks,
no Prefect, no publish. What a refresh costs above this is what the platform adds. Prints the seconds it
took and the rows of the marts, as JSON. A measurement for benchmarks/scale.py, not part of the platform.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb


def models_in_order(manifest: dict) -> list[dict]:
    """The project's models (not seeds, not tests) in an order where each comes after what it reads."""
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    graph = {uid: [parent for parent in node["depends_on"]["nodes"] if parent in nodes] for uid, node in nodes.items()}
    return [nodes[uid] for uid in TopologicalSorter(graph).static_order()]


def main(warehouse: Path, manifest_path: Path) -> dict:
    started = time.perf_counter()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = models_in_order(manifest)
    missing = [model["name"] for model in models if not model.get("compiled_code")]
    if missing:
        raise SystemExit(
            f"the manifest has no compiled SQL for {len(missing)} models (build them first): {missing[:5]}"
        )
    with tempfile.TemporaryDirectory(prefix="samskab-floor-") as folder:
        copy = Path(folder) / warehouse.name  # the same file name: compiled SQL names its database by it
        shutil.copyfile(warehouse, copy)
        copied = time.perf_counter()
        with duckdb.connect(str(copy)) as connection:
            for model in reversed(models):
                kind = "view" if model["config"]["materialized"] == "view" else "table"
                connection.execute(f'drop {kind} if exists "{model["schema"]}"."{model["alias"]}"')
            for model in models:
                kind = "view" if model["config"]["materialized"] == "view" else "table"
                connection.execute(f'create schema if not exists "{model["schema"]}"')
                connection.execute(f'create {kind} "{model["schema"]}"."{model["alias"]}" as {model["compiled_code"]}')
            rows = {
                model["alias"]: connection.execute(
                    f'select count(*) from "{model["schema"]}"."{model["alias"]}"'
                ).fetchone()[0]
                for model in models
                if model["schema"] == "marts"
            }
        computed = time.perf_counter()
    return {
        "models": len(models),
        "copy_s": round(copied - started, 3),
        "sql_s": round(computed - copied, 3),
        "mart_rows": rows,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
