"""What every landing reader is and returns: its source's declaration, raw tables and named rejects.

A source is declared once (`Source`): its name, the landing folder its deliveries arrive in, how a
delivery is recognised there, its reader, the raw tables it fills with their columns, and the quality
suites that guard them. The registry (`samskab.ingest.sources.registry`) lists the sources; ingest, the raw
store and the gate loop over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samskab.ingest.landing import Delivery, Discover

Pseudonymise = Callable[[str, str | None], str | None]


class LandingFileError(ValueError):
    """A whole file cannot be read (empty, truncated, wrong encoding or shape): the delivery is refused.

    `file` is the file at fault (within the delivery), `row` the line or sheet row where it went wrong
    when there is one. The reason says what is wrong and what to do; it never quotes the file's content.
    """

    def __init__(self, file: Path, reason: str, row: int | None = None, sheet: str | None = None) -> None:
        super().__init__(reason)
        self.file = file
        self.reason = reason
        self.row = row
        self.sheet = sheet


@dataclass(frozen=True)
class Reject:
    """A landing row (or a whole file, `row` None) that did not reach the raw layer, and why.

    `row` counts records from the top of the file with the header as row 1, as a spreadsheet shows them
    (the row of a sheet; an SPSS case number). The reason names columns and rules, never a cell's value.
    """

    source: str
    file: str
    row: int | None
    column: str | None
    reason: str
    sheet: str | None = None

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


@dataclass
class SourceBatch:
    """The result of reading one delivery: raw tables by name, rejects, and the files read.

    A table is a pandas DataFrame or a pyarrow Table whose columns are those the source declares, each
    row naming its `source_file` and `source_row`.
    """

    source: str
    files: list[Path]
    tables: dict[str, Any] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RawTable:
    """A table of the raw layer: its columns (name, DuckDB type), declared once, here.

    Every raw table also has `source_file` and `source_row`. A `raw_only` table holds text that may
    name people: dbt never reads it and it is never published.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    raw_only: bool = False

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self) -> str:
        columns = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        return (
            f"create table if not exists raw.{self.name} ({columns}, source_file varchar not null, source_row integer)"
        )


# What becomes of a piece of personal data a source delivers (the record of processing, GDPR article 30:
# samskab/publish/processing_record.py).
PSEUDONYMISED = "pseudonymised (a keyed HMAC as it is read)"
SCRUBBED = "scrubbed (e-mail, phone and CPR numbers and the person's own name marked) and kept in raw only"
DROPPED = "dropped (never stored)"
RAW_ONLY = "kept in raw only (never published)"
KEPT = "kept (identifies nobody alone)"


@dataclass(frozen=True)
class PersonalData:
    """One piece of personal data a source delivers, and what the platform does with it."""

    delivered_as: str  # in the researcher's words: which field of the delivery
    treatment: str  # PSEUDONYMISED, SCRUBBED, DROPPED, RAW_ONLY or KEPT
    raw_columns: tuple[str, ...] = ()  # "table.column" in raw where it (or its pseudonym) is kept; () if nowhere
    published: str = "never"  # where the published file carries it


@dataclass(frozen=True)
class Source:
    """One kind of delivery, declared once."""

    name: str
    folder: str  # under the landing zone
    description: str
    discover: Discover
    read: Callable[[Delivery, Pseudonymise], SourceBatch]
    tables: tuple[RawTable, ...]
    suites: tuple[str, ...]
    # Raw tables that describe deliveries and hold no identifying data: published in `meta` as lineage.
    published_lineage: tuple[str, ...] = ()
    # The reference seeds the reader reads (mapping entries, code lists): when one changes, every
    # delivery of the source is read again, so a new mapping entry needs no new delivery.
    reading_seeds: tuple[str, ...] = ()
    # Landing files (not deliveries of their own kind alone) the reader consults for every delivery of
    # the source, such as a table's tableinfo: when one changes, every delivery is read again.
    reading_files: Callable[[Path], list[Path]] | None = None
    # A check across the source's deliveries once all are in raw (a DuckDB connection to the warehouse):
    # returns the deliveries it holds back, each with `describe()` in words for the researcher.
    review: Callable[[Any], list[Any]] | None = None
    # The personal data its deliveries carry and what becomes of each (() : none, such as public
    # statistics). None: not declared, which a test refuses (tests/publish/test_processing_record.py).
    personal_data: tuple[PersonalData, ...] | None = None


class RowError(ValueError):
    """A single cell could not be read; carries the column so the reject can name it."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def require_file(path: Path, what: str) -> None:
    """Refuse the delivery when one of its files is missing, a folder, or empty."""
    if path.is_dir():
        raise LandingFileError(path, f"is a folder where {what} was expected; deliver the file itself")
    if not path.is_file():
        raise LandingFileError(path, f"is missing: {what} must be delivered with the rest")
    if path.stat().st_size == 0:
        raise LandingFileError(path, "is empty (0 bytes); deliver the file again")


def open_workbook(path: Path) -> Any:
    """Open an .xlsx workbook read-only with its cell values; a file that is none is refused, saying so."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    require_file(path, "the workbook")
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise LandingFileError(
            path, "is not a readable .xlsx workbook (damaged, cut short, or another format saved as .xlsx)"
        ) from None
