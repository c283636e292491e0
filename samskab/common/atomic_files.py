"""Files written whole or not at all: a temporary name beside the target, flushed to disk, renamed over it.

A kill leaves either the old file or the new one under the target's name, never half of one; the
temporary name it may leave is the caller's to recognise as a leftover (each folder has its pattern).
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(target: Path, content: bytes | str, partial: Path | None = None) -> None:
    """Write `content` (text is UTF-8) to `partial` (default `.<name>.part` beside `target`), flush it to disk
    and rename it over `target`; the temporary name is removed if anything fails."""
    partial = partial or target.with_name(f".{target.name}.part")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    """Make the renames in `directory` durable (a rename is an entry of the directory)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def flushed_like(partial: Path, original: Path) -> None:
    """A rewrite of `original` written whole under `partial`: flushed to disk and given the original's mode,
    ready to be renamed over it."""
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.chmod(original.stat().st_mode & 0o777)
