"""Room on the data lake's disk: checked before a refresh starts, and by `samskab status`.

A refresh writes a candidate the size of the published file, keeps a snapshot of it, and grows the
warehouse; on a disk without that room it would fail half way (DuckDB aborts a write when the disk
fills). So it does not start, says why, and sends a notice; `samskab status` warns the day before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from samskab.common.settings import Settings

MIN_ROOM = 256 * 2**20  # below this, nothing the platform writes can be trusted to fit
ROOM_PER_PUBLISHED = 3  # a candidate, a snapshot and the warehouse's growth, each about the published file


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def room_needed(settings: Settings) -> int:
    published = settings.published_path.stat().st_size if settings.published_path.is_file() else 0
    return max(MIN_ROOM, ROOM_PER_PUBLISHED * published)


def shortage(settings: Settings) -> str | None:
    """What to tell the researcher when the lake's disk lacks the room a refresh needs; None when it has it."""
    free = shutil.disk_usage(_existing(settings.data_lake)).free
    needed = room_needed(settings)
    if free >= needed:
        return None
    return (
        f"The disk that holds the data lake has {free / 2**20:,.0f} MB free, and a refresh needs about "
        f"{needed / 2**20:,.0f} MB (three times the published file, at least {MIN_ROOM // 2**20} MB). The refresh "
        "does not start: analysts keep the file published before. Next: free space on that disk (`df -h`), "
        "then run `samskab refresh`."
    )
