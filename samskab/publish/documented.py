"""Which run the documentation beside the published file documents.

The documentation (dbt's lineage graph, Great Expectations' Data Docs, the study report) is built in
`published/docs/` after the swap. A run killed between its swap and the end of its documentation leaves
the new run's file beside the old run's pages, or half of each, and the next night, with nothing changed,
would keep them so. So the documentation's last step records the run it documents, and a run that finds
the published file's run not recorded there builds the documentation again.
"""

from __future__ import annotations

import contextlib
import json

from samskab.common.atomic_files import write_atomically
from samskab.common.settings import Settings
from samskab.publish.swap import published_run

STAMP = ".documented-run.json"


def record(settings: Settings, run_id: str) -> None:
    """Say that the documentation in `published/docs/` is of run `run_id` (its last step)."""
    settings.docs_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(settings.docs_dir / STAMP, json.dumps({"run_id": run_id}) + "\n")


def documented_run(settings: Settings) -> str | None:
    """The run the documentation was last built for; None when none is recorded."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return json.loads((settings.docs_dir / STAMP).read_text(encoding="utf-8")).get("run_id")
    return None


def out_of_date(settings: Settings) -> str | None:
    """The published file's run when the documentation beside it is not of that run; None when it is, or
    when nothing is published."""
    published = published_run(settings.published_path)
    if published is None or documented_run(settings) == published[0]:
        return None
    return published[0]
