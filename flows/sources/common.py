"""What every landing reader returns: typed tables for the raw layer and the rows it rejected."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

Pseudonymise = Callable[[str, str | None], str | None]


class LandingFileError(ValueError):
    """A whole file cannot be read (wrong encoding, wrong header); names the file and what to do."""


@dataclass(frozen=True)
class Reject:
    """One landing row that did not reach the raw layer. `row` is the line number in the file
    (the header is line 1). The reason never repeats an identifying value."""

    source: str
    file: str
    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class SourceBatch:
    """The result of reading one delivery: raw tables by name, rejects, and the files read."""

    source: str
    files: list[Path]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class RowError(ValueError):
    """A single cell could not be read; carries the column so the reject can name it."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_int(column: str, text: str, *, required: bool = False) -> int | None:
    text = text.strip()
    if not text:
        if required:
            raise RowError(column, "is empty but required")
        return None
    try:
        return int(text)
    except ValueError:
        raise RowError(column, "is not a whole number") from None


def parse_timestamp(column: str, text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise RowError(column, "is not a date and time (YYYY-MM-DD HH:MM:SS)") from None


def parse_danish_date(column: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%d.%m.%Y").date()
    except ValueError:
        raise RowError(column, "is not a date (DD.MM.YYYY)") from None


def parse_yes_no(column: str, text: str) -> bool | None:
    value = text.strip().casefold()
    if not value:
        return None
    if value in {"ja", "j", "yes", "1"}:
        return True
    if value in {"nej", "n", "no", "0"}:
        return False
    raise RowError(column, "is neither 'ja' nor 'nej'")
