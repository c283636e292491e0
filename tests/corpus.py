"""The corpus of real exports (tests/fixtures/real/, with their provenance in its PROVENANCE.md): each
delivery with its kind, and how it is dropped into a landing zone. Shared by the tests that land the
corpus (tests/ingest/test_real_exports.py) and the fuzzer that damages it (tests/torture/).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.lakes import FIXTURES

REAL = FIXTURES / "real"


@dataclass(frozen=True)
class Item:
    """One corpus delivery: its kind, the file or folder, and what goes beside it in the landing zone."""

    kind: str
    path: Path
    beside: tuple[Path, ...] = ()

    @property
    def folder(self) -> str:
        return {"classifications": "classifications", "statbank": "statbank"}.get(self.kind, "survey")

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.path.name}"

    def __str__(self) -> str:
        return f"{self.kind}/{self.path.name}"


def corpus() -> list[Item]:
    items = [Item("surveyxact", path) for path in sorted((REAL / "surveyxact").iterdir()) if path.is_dir()]
    for kind in ("qualtrics", "spss", "stata", "classifications"):
        items += [Item(kind, path) for path in sorted((REAL / kind).iterdir()) if path.suffix != ".md"]
    for path in sorted((REAL / "statbank").iterdir()):
        if path.suffix == ".md" or path.name.endswith(".tableinfo.json"):
            continue
        tableinfo = sorted((REAL / "statbank").glob(f"{path.name.split('_')[0]}_*.tableinfo.json"))
        items.append(Item("statbank", path, tuple(tableinfo)))
    return items


CORPUS = corpus()


def deliver(item: Item, landing: Path) -> None:
    folder = landing / item.folder
    folder.mkdir(parents=True, exist_ok=True)
    if item.path.is_dir():
        shutil.copytree(item.path, folder / item.path.name)
    else:
        shutil.copy(item.path, folder / item.path.name)
    for extra in item.beside:
        shutil.copy(extra, folder / extra.name)
