"""Where each benchmark's results go: `benchmarks/results/<name>.json` for tools, `<name>.md` for people."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, document: dict, text: str) -> None:
    """Write a benchmark's results as JSON and its table as Markdown, and print the table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    print(text)
