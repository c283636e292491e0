"""dbt's static documentation of a build: the lineage site, one self-contained HTML file.

`build_dbt_docs` runs `dbt docs generate --static` in this process and keeps its one HTML file (the
manifest and the catalog inlined: models, tests, lineage graph, column names and types). dbt-duckdb's
catalog reads DuckDB's own tables of tables, views and columns only, never a row. The page carries its
scripts inline and fetches nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from samskab.build.dbt import invoke_dbt
from samskab.common import stop_points
from samskab.common.failures import DocsFailed
from samskab.common.settings import Settings

DBT_DOCS_DIR = "dbt"


def last_invocation_built(target: Path) -> bool:
    """True when the target's manifest is that of a `dbt build` (its compiled SQL is the one that ran)."""
    try:
        run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (target / "manifest.json").is_file() and (run_results.get("args") or {}).get("which") == "build"


def build_dbt_docs(settings: Settings, target_dir: Path) -> Path:
    """Run `dbt docs generate --static` against the warehouse; returns `target_dir/dbt/index.html`.

    Right after `transform.build_marts` the build's manifest is reused (`--no-compile`), so the page shows
    exactly what was built, with its compiled SQL: about 1 s on the sample in the process that built it,
    3 s in a fresh one. Without a build in the target, dbt compiles the project first (about 13 s).
    The page is about 5 MB and needs no other file. Raises DocsFailed when dbt cannot generate the docs.
    """
    target = settings.dbt_target_dir
    command = ["docs", "generate", "--static"]
    if last_invocation_built(target):
        command.append("--no-compile")
    static_index = target / "static_index.html"
    static_index.unlink(missing_ok=True)  # never publish the page of an earlier run
    stop_points.reached("documentation")
    result = invoke_dbt(settings, command)
    if result.exception is not None:
        raise DocsFailed(f"dbt docs generate could not run: {result.exception}")
    if not result.success or not static_index.is_file():
        errors = getattr(result.result, "errors", None) or []
        raise DocsFailed(
            "dbt docs generate failed"
            + (f": {len(errors)} errors reading the catalog" if errors else " (see dbt_logs in the warehouse)")
        )
    page = target_dir / DBT_DOCS_DIR / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(static_index, page)
    return page
