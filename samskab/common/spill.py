"""Spill folders: where a read-only DuckDB connection writes what outgrows memory.

DuckDB spills a file database's large sorts and joins into `<file>.tmp/` beside the file by default. For
the published file that is the published folder, where a reader killed mid-query left a folder that every
later publish tripped over. Analysts' connections spill into `spill/reader-<pid>/` in the data lake
instead; DuckDB removes its files when the connection closes, and the refresh removes what a killed reader
left (folders no living process holds open).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from samskab.common.processes import pid_alive
from samskab.common.settings import Settings


def reader_spill_dir(settings: Settings) -> Path:
    """This process's spill folder (created by DuckDB when it first spills)."""
    return settings.spill_dir / f"reader-{os.getpid()}"


def usable(folder: Path) -> Path:
    """`folder` with its parent made (DuckDB makes the folder itself, not its parents); where the lake is
    not writable for this user, a folder of this process under the system's temporary folder."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(tempfile.gettempdir()) / f"samskab-{folder.name}"
    return folder


def _open_paths() -> set[str] | None:
    """Every file some process of this machine holds open (those this user may see), or None where the
    system does not say (no /proc)."""
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return None
    held = set()
    for fd_dir in proc.glob("[0-9]*/fd"):
        try:
            for link in fd_dir.iterdir():
                try:
                    held.add(os.readlink(link))
                except OSError:
                    continue
        except OSError:
            continue
    return held


def abandoned(folders: list[Path]) -> list[Path]:
    """The spill folders among `folders` that no living process uses: a reader's folder whose process is
    gone (a living reader's folder is its own, even when empty), or any other folder no process holds a file
    of open (DuckDB keeps its spill files open while it uses them). Where the system cannot say which files
    are open, only dead readers' folders."""
    held = _open_paths()
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        name = folder.name
        if name.startswith("reader-") and name.removeprefix("reader-").isdigit():
            if not pid_alive(int(name.removeprefix("reader-"))):
                found.append(folder)
        elif held is not None:
            prefix = str(folder.resolve()) + os.sep
            if not any(path.startswith(prefix) for path in held):
                found.append(folder)
    return found


def remove_abandoned(settings: Settings, beside_files: list[Path]) -> list[str]:
    """Remove spill folders no living reader uses: under the lake's spill folder, and the `<file>.tmp/`
    folders DuckDB's default left beside `beside_files` (a client other than the platform's, or a killed
    one). Returns each removed folder's name with its size. Only while holding the refresh lock."""
    candidates = [*(settings.spill_dir.iterdir() if settings.spill_dir.is_dir() else [])]
    candidates += [path.with_name(path.name + ".tmp") for path in beside_files]
    removed = []
    for folder in abandoned(candidates):
        size = sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(f"{folder.name}/ ({size / 1e6:.1f} MB)")
    return removed
