"""Delimited text files as they arrive: the encoding and separator detected, never configured.

Encodings: UTF-16 with a byte-order mark (SurveyXact's "Unicode" export), UTF-8 with or without a
byte-order mark, and Windows-1252 (what Excel and SurveyXact call "ANSI" in Denmark). Separators: tab,
semicolon or comma. Parsing is pyarrow's CSV reader (C++, column-wise); rows with the wrong number of
fields are reported by their row number, never by their content.

A file is refused whole (LandingFileError) when it is empty, cut short (an odd number of bytes in
UTF-16, a quoted field left open at the end, a last row that stops mid-row), or in an encoding that is
none of the above (UTF-16 without a byte-order mark, UTF-32, bytes Windows-1252 does not define).
Errors never quote the file's bytes: decoding errors are turned into byte positions.

Row numbers are records counted from the top of the file with the header as row 1, as a spreadsheet
shows them (a field with a line break in it does not add a row).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from flows.sources.common import LandingFileError

CANDIDATE_DELIMITERS = ("\t", ";", ",")
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # in words, for lineage: "UTF-16 with byte-order mark", "Windows-1252", ...


def read_text(path: Path) -> DecodedText:
    """The file's text, its encoding detected; refuses what cannot be decoded with certainty."""
    raw = path.read_bytes()
    if not raw:
        raise LandingFileError(path, "is empty (0 bytes); deliver the file again")
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise LandingFileError(path, "is UTF-32, an unexpected encoding; export it again as UTF-8 or UTF-16")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if raw.startswith(b"\xff\xfe") else "utf-16-be"
        if len(raw) % 2:
            raise LandingFileError(
                path,
                f"ends in the middle of a character (an odd number of bytes, {len(raw):,}, in UTF-16): "
                "the file is cut short; deliver it again",
            )
        try:
            return DecodedText(raw[2:].decode(codec), "UTF-16 with byte-order mark")
        except UnicodeDecodeError as error:
            raise LandingFileError(
                path, f"is not valid UTF-16 at byte {error.start + 2:,}: the file is damaged or cut short"
            ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return DecodedText(raw[3:].decode("utf-8"), "UTF-8 with byte-order mark")
        except UnicodeDecodeError as error:
            raise LandingFileError(
                path,
                f"starts with a UTF-8 byte-order mark but is not valid UTF-8 at byte {error.start + 3:,}: "
                "the file is damaged; export it again",
            ) from None
    if raw.count(b"\x00") > len(raw) // 4:
        raise LandingFileError(
            path,
            "has NUL bytes between its characters: it looks like UTF-16 without a byte-order mark, an unexpected "
            "encoding; export it again as UTF-8 or as UTF-16 with a byte-order mark",
        )
    try:
        return DecodedText(raw.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        return DecodedText(raw.decode("cp1252"), "Windows-1252")
    except UnicodeDecodeError as error:
        raise LandingFileError(
            path,
            f"is in an unexpected encoding: neither UTF-8, UTF-16 nor Windows-1252 (byte {error.start:,} has no "
            "character in Windows-1252); export it again as UTF-8",
        ) from None


HEAD = 1 << 22  # header rows are read from the first 4 MB, not from a copy of the whole file


def first_records(text: str, delimiter: str, n: int) -> list[list[str]]:
    """The first `n` rows of the text, split by `delimiter` with CSV quoting."""
    records = []
    for record in csv.reader(io.StringIO(text[:HEAD]), delimiter=delimiter):
        records.append(record)
        if len(records) == n:
            break
    return records


def first_record(text: str, delimiter: str) -> list[str]:
    """The first row of the text, split by `delimiter` with CSV quoting."""
    return (first_records(text, delimiter, 1) or [[]])[0]


def sniff_delimiter(text: str, candidates: tuple[str, ...] = CANDIDATE_DELIMITERS) -> str:
    """The separator that splits the first row into the most fields (tab, then semicolon, then comma on ties)."""
    counts = {delimiter: len(first_record(text, delimiter)) for delimiter in candidates}
    return max(candidates, key=lambda delimiter: (counts[delimiter], -candidates.index(delimiter)))


@dataclass
class Delimited:
    """A parsed delimited file: one string column per field (`c0`, `c1`, ...; null for an empty field)."""

    header: list[str] | None
    table: pa.Table
    rows: np.ndarray  # the row number of each table row
    bad_rows: list[tuple[int, int, int]] = field(default_factory=list)  # (row, fields expected, fields found)
    delimiter: str = ","

    @property
    def n_rows(self) -> int:
        return self.table.num_rows


def parse_delimited(
    text: str,
    path: Path,
    *,
    delimiter: str,
    header: bool = True,
    header_rows: int | None = None,
    n_columns: int | None = None,
) -> Delimited:
    """Parse `text` (decoded from `path`) into string columns, with each row's number and the bad rows.

    The first row is the header when `header`; `header_rows` rows are skipped before the data (Qualtrics
    writes three), the first of them naming the columns."""
    names = first_record(text, delimiter) if header else None
    skip = header_rows if header_rows is not None else (1 if header else 0)
    width = len(names) if names is not None else (n_columns or len(first_record(text, delimiter)))
    if width == 0:
        raise LandingFileError(path, "has no fields in its first row", row=1)
    _refuse_open_quote_at_end(text, path, delimiter)
    bad_rows: list[tuple[int, int, int]] = []

    def skip_bad_row(row: pacsv.InvalidRow) -> str:
        bad_rows.append((int(row.number), int(row.expected_columns), int(row.actual_columns)))
        return "skip"

    columns = [f"c{index}" for index in range(width)]
    table = pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=columns, skip_rows=skip, use_threads=False, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=skip_bad_row,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    first = skip + 1
    n_records = table.num_rows + len(bad_rows)
    numbers = np.arange(first, first + n_records, dtype=np.int64)
    if bad_rows:
        numbers = numbers[~np.isin(numbers, [row for row, _, _ in bad_rows])]
    last = first + n_records - 1
    if bad_rows and bad_rows[-1][0] == last and not text.endswith(("\n", "\r")):
        raise LandingFileError(
            path,
            f"ends mid-row: its last row has {bad_rows[-1][2]} of {bad_rows[-1][1]} fields and no line end, "
            "so the file is cut short (truncated); deliver it again",
            row=last,
        )
    # A line with nothing on it is no row of data (spreadsheets leave them at the end).
    filled = _any_valid(table)
    if not pc.all(filled).as_py():
        table, numbers = table.filter(filled), numbers[filled.to_numpy(zero_copy_only=False)]
    return Delimited(names, table, numbers, bad_rows, delimiter)


def _refuse_open_quote_at_end(text: str, path: Path, delimiter: str) -> None:
    """pyarrow drops a last row whose quoted field never closes; Python's strict CSV reader notices it.
    Only files with quotes or without a final line end can hold one, so only those are checked."""
    if '"' not in text and text.endswith(("\n", "\r")):
        return
    try:
        for _ in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        raise LandingFileError(
            path, "ends inside a quoted field: the file is cut short (truncated) or damaged; deliver it again"
        ) from None


def _any_valid(table: pa.Table) -> pa.ChunkedArray | pa.Array:
    if table.num_columns == 0:
        return pa.array([], pa.bool_())
    valid = pc.is_valid(table.column(0))
    for column in table.columns[1:]:
        valid = pc.or_(valid, pc.is_valid(column))
    return valid.combine_chunks() if isinstance(valid, pa.ChunkedArray) else valid
