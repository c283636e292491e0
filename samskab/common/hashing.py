"""One way to hash a file: sha256 over its bytes, read in blocks of a megabyte, never whole into memory.

The ingest ledger, the embedded sample's marker, the inputs fingerprint and dbt's parse of the project all
name a file by this digest (a tree of files by `tree_digest`).
A file is read once per process for as long as it is unchanged: the digest is kept by the file's identity
and the kernel's record of its last change (size, inode, modification and status-change times to the
nanosecond), so the fingerprint and ingest of one refresh read each landing file once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

BLOCK = 1 << 20


def update_with_file(digest: Any, path: Path) -> None:
    """Feed the bytes of `path` into a running hashlib digest."""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    stat = Path(path).stat()
    return _sha256(str(path), stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=65536)
def _sha256(path: str, size: int, inode: int, modified_ns: int, changed_ns: int) -> str:
    digest = hashlib.sha256()
    update_with_file(digest, Path(path))
    return digest.hexdigest()


def files_read() -> int:
    """How many times a file's bytes were read to hash them in this process (each unchanged file once)."""
    return _sha256.cache_info().misses


# Not inputs: what dbt, Python and editors write beside the code.
SKIPPED_PARTS = frozenset({"__pycache__", "target", "dbt_packages", "logs", ".user.yml"})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def files_under(root: Path, base: Path) -> list[tuple[str, Path]]:
    """Every file under `root` (or `root` itself), named relative to `base`, without what tools write beside."""
    if not root.exists():
        return []
    if root.is_file():
        return [(root.relative_to(base).as_posix(), root)]
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(base)
        if set(relative.parts) & SKIPPED_PARTS or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        if path.is_file() or path.is_symlink():
            found.append((relative.as_posix(), path))
    return found


def files_digest(files: list[tuple[str, Path]]) -> str:
    """One digest over each file's name and sha256 (an unreadable file counts as such)."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        try:
            file_digest = sha256_of(path)
        except OSError:
            file_digest = "<unreadable>"
        digest.update(f"{name}\0{file_digest}\0".encode())
    return digest.hexdigest()


def tree_digest(root: Path) -> str:
    """One digest over the names and contents of every file under `root`."""
    return files_digest(files_under(root, root))
