"""The landing zone as a researcher left it: every delivery in it, and every file that is none.

One walk over `data_lake/landing/` decides, for every entry, what it is:

- a delivery of a registered source (a SurveyXact export folder, a workbook, a Statbank extract, ...),
  which ingest then loads or refuses with its reason;
- refused at sight: a symbolic link (the landing zone takes real files only, so every check and the
  ingest see the same bytes);
- withdrawn: anything under `withdrawn/`, whose rows leave the raw layer;
- ignored: the platform's own files and operating-system clutter (`.DS_Store`, Office lock files);
- not recognised: everything else, named so the researcher can move or remove it.

Nothing follows a link and nothing here reads a file's contents: sources recognise deliveries by
their place and name, and their readers judge the contents.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samskab.common.hashing import sha256_of
from samskab.common.words import FileState

README = "README.md"
SAMPLE_MARKER = "EMBEDDED_SAMPLE.json"
PLATFORM_FILES = frozenset({README, SAMPLE_MARKER})
WITHDRAWN_FOLDER = "withdrawn"
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "Icon\r"})

# What became of a landing file in a run.
LOADED, UNCHANGED, REFUSED = FileState.LOADED, FileState.UNCHANGED, FileState.REFUSED
NOT_RECOGNISED, WITHDRAWN, IGNORED = FileState.NOT_RECOGNISED, FileState.WITHDRAWN, FileState.IGNORED
NEEDS_ATTENTION = frozenset({REFUSED, NOT_RECOGNISED})


@dataclass(frozen=True)
class Delivery:
    """One delivery of a source: a folder or a file, and the files it is made of."""

    source: str
    name: str  # relative to the landing zone, e.g. "survey/samskabelse_2016"
    path: Path
    files: tuple[Path, ...]
    format: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Finding:
    """A landing entry that is not a delivery, and why."""

    path: str  # relative to the landing zone
    state: str
    reason: str
    source: str | None = None


@dataclass
class Inventory:
    """Everything in the landing zone at one moment."""

    landing_dir: Path
    deliveries: list[Delivery] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Where a file no source takes belongs (a landing folder and what the file looks like), if known:
    # path -> an object with `.folder` and `.advice()`, or None.
    where_it_belongs: Callable[[Path], Any] | None = None

    def relative(self, path: Path) -> str:
        return relative_to_landing(path, self.landing_dir)


# A source recognises its deliveries in its folder: (folder, inventory) -> deliveries and findings.
Discover = Callable[[Path, Inventory], tuple[list[Delivery], list[Finding]]]


def relative_to_landing(path: Path | str, landing_dir: Path) -> str:
    """A landing path as the researcher sees it ("survey/x/dataset.csv"); never a path of the server."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    for base in (landing_dir, landing_dir.resolve()):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def real_entries(folder: Path) -> list[os.DirEntry]:
    """The entries of `folder` that are real files or folders (links are refused by the inventory)."""
    with os.scandir(folder) as entries:
        return sorted((entry for entry in entries if not entry.is_symlink()), key=lambda entry: entry.name)


def walk(landing_dir: Path) -> tuple[list[Path], list[Path]]:
    """Every regular file under the landing zone, and every symbolic link; links are never followed."""
    files, links = [], []
    for root, dirs, names in os.walk(landing_dir, followlinks=False):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                links.append(base / name)
                dirs.remove(name)
        for name in names:
            path = base / name
            (links if path.is_symlink() else files).append(path)
    return sorted(files), sorted(links)


def _ignored_reason(name: str) -> str | None:
    if name in SYSTEM_FILES:
        return "an operating-system file"
    if name.startswith("~$") or name.startswith(".~lock."):
        return "an office lock file (the document is open somewhere)"
    return None


def take_inventory(
    landing_dir: Path,
    folders: dict[str, tuple[str, Discover]],
    where_it_belongs: Callable[[Path], Any] | None = None,
) -> Inventory:
    """Walk the landing zone once. `folders` maps a top-level folder name to (source name, discover);
    `where_it_belongs` tells a file that no source takes where it should go."""
    inventory = Inventory(landing_dir=landing_dir, where_it_belongs=where_it_belongs)
    if not landing_dir.is_dir():
        return inventory
    files, links = walk(landing_dir)
    inventory.findings += [
        Finding(
            inventory.relative(link),
            REFUSED,
            "is a symbolic link; the landing zone takes real files only: copy the delivery in instead of linking it",
        )
        for link in links
    ]
    order = list(folders)
    # Sources in registry order, so deliveries are read in the same order every night.
    entries = sorted(real_entries(landing_dir), key=lambda e: order.index(e.name) if e.name in order else len(order))
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir() and entry.name in folders:
            source, discover = folders[entry.name]
            deliveries, findings = discover(path, inventory)
            inventory.deliveries += deliveries
            inventory.findings += [
                finding if finding.source else Finding(finding.path, finding.state, finding.reason, source)
                for finding in findings
            ]
        elif entry.is_dir() and entry.name == WITHDRAWN_FOLDER:
            inventory.findings += [
                Finding(
                    inventory.relative(file), WITHDRAWN, "lies in withdrawn/: not read, its rows leave the raw layer"
                )
                for file in files
                if _is_within(file, path)
            ]
        elif entry.is_file() and entry.name in PLATFORM_FILES:
            continue
        else:
            where = ", ".join(f"{name}/" for name in sorted(folders))
            inventory.findings += not_recognised(
                path,
                inventory,
                f"is not in a source's folder ({where}); move it into the right one, or into withdrawn/",
            )
    return inventory


def _is_within(path: Path, folder: Path) -> bool:
    return folder == path or folder in path.parents


def not_recognised(path: Path, inventory: Inventory, reason: str) -> list[Finding]:
    """Findings for a file, or for every file under a folder, that no source reads."""
    found = files_under(path) if path.is_dir() else [path]
    findings = []
    for file in found:
        ignored = _ignored_reason(file.name)
        if ignored:
            findings.append(Finding(inventory.relative(file), IGNORED, ignored))
        else:
            findings.append(Finding(inventory.relative(file), NOT_RECOGNISED, _with_advice(file, inventory, reason)))
    if path.is_dir() and not found:
        findings.append(Finding(inventory.relative(path) + "/", IGNORED, "an empty folder"))
    return findings


def _with_advice(file: Path, inventory: Inventory, reason: str) -> str:
    """The reason, and where the file belongs when that is another folder than the one it lies in."""
    belonging = inventory.where_it_belongs(file) if inventory.where_it_belongs else None
    if belonging is None:
        return reason
    relative = inventory.relative(file)
    here = relative.split("/", 1)[0] if "/" in relative else ""
    if belonging.folder == here:
        return reason
    return f"{reason}; {belonging.advice()}"


def files_under(folder: Path) -> list[Path]:
    """Regular files under `folder`, links excluded (the inventory refuses those)."""
    return walk(folder)[0]


# --- the embedded sample's marker -----------------------------------------------------------------------


def landing_holds_only_the_sample(landing_dir: Path) -> bool:
    """True when every file in the landing zone is an unchanged file of the generated sample.

    The same walk as ingest's: a symbolic link anywhere (which ingest refuses) means it is not the sample.
    """
    marker_path = landing_dir / SAMPLE_MARKER
    if not marker_path.is_file() or marker_path.is_symlink():
        return False
    known = json.loads(marker_path.read_text(encoding="utf-8")).get("files", {})
    files, links = walk(landing_dir)
    recorded = recorded_api_answers(landing_dir)
    delivered = [
        path
        for path in files
        if not (path.parent == landing_dir and path.name in PLATFORM_FILES) and path not in recorded
    ]
    return (
        not links
        and bool(delivered)
        and all(known.get(path.relative_to(landing_dir).as_posix()) == sha256_of(path) for path in delivered)
    )


def recorded_api_answers(landing_dir: Path) -> set[Path]:
    """Statbank answers the connector fetched from the sample's recordings, with their request records.

    They belong to the sample as much as its landing files do (and hold no person data), so the
    sample may be written again over them and the demo key may be used beside them.
    """
    answers: set[Path] = set()
    for record in (landing_dir / "statbank").rglob("*.request.json") if (landing_dir / "statbank").is_dir() else []:
        try:
            recorded = json.loads(record.read_text(encoding="utf-8")).get("api") == "recorded"
        except (ValueError, OSError, AttributeError):
            continue
        if recorded:
            name = record.name.removesuffix(".request.json")
            answers |= {record, record.with_name(f"{name}.csv"), record.with_name(f"{name}.json")}
    return answers
