"""One way to hash a file: sha256 over its bytes, read in blocks of a megabyte, never whole into memory.

The ingest ledger, the embedded sample's marker and the inputs fingerprint all name a file by this digest.
"""

from __future__ import annotations

import hashlib
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
    digest = hashlib.sha256()
    update_with_file(digest, path)
    return digest.hexdigest()
