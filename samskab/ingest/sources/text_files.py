"""Delimited text files as they arrive: the encoding and separator detected, never configured.

Encodings: UTF-16 with a byte-order mark (SurveyXact's "Unicode" export), UTF-8 with or without a
byte-order mark, and the 8-bit encodings a file re-saved in Excel may have: Windows-1252 (what Excel and
SurveyXact call "ANSI" in Denmark; Latin-1 files read the same), DOS cp850 and Mac Roman, told apart by
where their letters fall (Danish letters decide); a file that could be more than one is refused, naming
them, never read with wrong letters. Separators: tab, semicolon or comma. Parsing is pyarrow's CSV
reader (C++, column-wise); rows with the wrong number of fields are reported by their row number, never
by their content.

A file is refused whole (LandingFileError) when it is empty, cut short (an odd number of bytes in
UTF-16, a quoted field left open at the end, a last row that stops mid-row), or in an encoding that is
none of the above or cannot be told (UTF-16 without a byte-order mark, UTF-32, 8-bit text that reads
plausibly in none, or in more than one, of the 8-bit encodings).
Errors never quote the file's bytes: decoding errors are turned into byte positions.

Row numbers are records counted from the top of the file with the header as row 1, as a spreadsheet
shows them (a field with a line break in it does not add a row).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from samskab.ingest.sources.common import LandingFileError

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
    codec, fitting = eight_bit_encoding(raw)
    if codec is None:
        raise LandingFileError(path, undecided_8bit_reason(fitting)) from None
    return DecodedText(raw.decode(codec), EIGHT_BIT_NAMES[codec])


# 8-bit encodings a Danish spreadsheet or survey tool writes: Windows ("ANSI", also what Latin-1 files
# read as), DOS (Excel's "CSV (MS-DOS)") and the classic Mac (Excel's "CSV (Macintosh)"). They share
# ASCII and differ in every letter outside it.
EIGHT_BIT_NAMES = {"cp1252": "Windows-1252", "cp850": "DOS Latin-1 (cp850)", "mac_roman": "Mac Roman"}
# Letters outside ASCII that Danish, Norwegian, Swedish, German and French texts use.
PLAUSIBLE_LETTERS = frozenset("æøåÆØÅäöüÄÖÜßéèêëáàâíìîïóòôúùûçñÉ")
# Typographic marks of Windows text (dashes, quotes, the euro, a no-break space): never inside a word,
# except the apostrophe.
PLAUSIBLE_MARKS = frozenset("–—‘’“”„«»€°§½¼¾•…´·×")
NO_BREAK_SPACE = "\u00a0"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
FITTING_SHARE = 0.98
MAX_SAMPLES = 200_000


def _plausible(character: str, before: str, after: str) -> bool:
    if character == NO_BREAK_SPACE:
        return True
    if character in PLAUSIBLE_LETTERS:
        if character.isupper() and before.islower():
            return False  # "sÆrlig": a capital inside a lower-case word is a misread letter
        # In a word, or a word of its own (a label "ø"); not stuck to digits ("2016û2018" is a misread dash).
        alone = not before.isalnum() and not after.isalnum()
        return before.isalpha() or after.isalpha() or alone
    if character in PLAUSIBLE_MARKS:
        return character == "’" or not (before.isalpha() and after.isalpha())
    return False


def _fits(text: str) -> bool:
    """Whether the non-ASCII characters of a decoded text are letters and marks where they belong."""
    total = plausible = 0
    for match in _NON_ASCII.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        after = text[start + 1] if start + 1 < len(text) else " "
        total += 1
        plausible += _plausible(match.group(), before, after)
        if total >= MAX_SAMPLES:
            break
    return total == 0 or plausible >= FITTING_SHARE * total


_DANISH_IN_WORD = re.compile(r"[A-Za-zæøåÆØÅ][æøåÆØÅ]|[æøåÆØÅ][a-zæøå]")


def _danish_in_words(text: str) -> bool:
    """Whether a Danish letter stands inside a word ("Særlig", "Ærø"): evidence, where a lone one is not."""
    return _DANISH_IN_WORD.search(text) is not None


def eight_bit_encoding(raw: bytes) -> tuple[str | None, list[str]]:
    """The 8-bit encoding of bytes that are not UTF-8, when it can be told with confidence; else None.

    Each candidate (Windows-1252, cp850, Mac Roman) decodes the bytes; it fits when its letters outside
    ASCII are letters in words and its marks are not (a "Særlig" read in the wrong encoding becomes
    "S‘rlig" or "S¾rlig"). One fitting candidate decides; of several, the one that gives Danish letters
    (æ, ø, å) inside words decides; otherwise nothing does. Returns (codec or None, the fitting candidates)."""
    decoded = {}
    for codec in EIGHT_BIT_NAMES:
        try:
            decoded[codec] = raw.decode(codec)
        except UnicodeDecodeError:
            continue
    fitting = [codec for codec, text in decoded.items() if _fits(text)]
    if len(fitting) == 1:
        return fitting[0], fitting
    danish = [codec for codec in fitting if _danish_in_words(decoded[codec])]
    if len(danish) == 1:
        return danish[0], fitting
    return None, fitting


def undecided_8bit_reason(fitting: list[str]) -> str:
    """Why an 8-bit file is refused, naming the encodings it could be (never its bytes)."""
    names = [EIGHT_BIT_NAMES[codec] for codec in fitting]
    if len(names) > 1:
        read = f"its letters outside ASCII read as words in {' and in '.join(names)}, and no Danish letter decides"
    else:
        read = (
            "its letters outside ASCII read as words in none of "
            f"{', '.join(EIGHT_BIT_NAMES.values())} (nor is it UTF-8)"
        )
    return (
        f"is in an 8-bit encoding that cannot be told with certainty: {read}, so it is not read rather than "
        "read with wrong letters. Save it again as UTF-8 (in Excel: 'CSV UTF-8') and deliver it again"
    )


HEAD = 1 << 22  # header rows are read from the first 4 MB, not from a copy of the whole file


# The longest field a header row may hold (the csv module's own limit is 128 KB).
LONGEST_HEADER_FIELD = 1 << 20


def first_records(text: str, delimiter: str, n: int) -> list[list[str]]:
    """The first `n` rows of the text, split by `delimiter` with CSV quoting. A field longer than
    LONGEST_HEADER_FIELD (or a quote never closed) ends the rows read there: what follows is no header."""
    records = []
    previous = csv.field_size_limit(LONGEST_HEADER_FIELD)
    try:
        for record in csv.reader(io.StringIO(text[:HEAD]), delimiter=delimiter):
            records.append(record)
            if len(records) == n:
                break
    except csv.Error:
        pass
    finally:
        csv.field_size_limit(previous)
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
    try:
        table = _arrow_csv(text, delimiter, columns, skip, skip_bad_row)
    except pa.ArrowInvalid:
        # pyarrow fails on some shapes a valid file can have (header rows and no line end after them):
        # Python's csv module reads the same records, more slowly.
        return parse_records(
            text, path, delimiter=delimiter, header=header, width=None if header else width, header_rows=skip
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


def _arrow_csv(text: str, delimiter: str, columns: list[str], skip: int, on_bad_row) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        # Header rows are skipped as records (a question text in row 2 may hold line breaks), not as lines.
        read_options=pacsv.ReadOptions(
            column_names=columns, skip_rows_after_names=skip, use_threads=False, block_size=1 << 24
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_bad_row,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def parse_records(
    text: str, path: Path, *, delimiter: str, header: bool, width: int | None = None, header_rows: int = 1
) -> Delimited:
    """Parse a small file record by record (Python's csv module), forgiving trailing separators.

    For a codebook file (a SurveyXact structure or labels file) that some exports end with one
    separator too many on some rows or all: empty fields beyond the header's width (or `width`) are
    dropped, and a header's own trailing empty names too. A row with more filled fields than that, or
    fewer fields, is a bad row, reported by its number."""
    _refuse_open_quote_at_end(text, path, delimiter)
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:  # its text quotes the row; the reason names the limit instead
        raise LandingFileError(
            path,
            f"has a field longer than {csv.field_size_limit() // 1024:,} KB, which a codebook file never holds: "
            "it is damaged (a quote opened and never closed?); export it again",
        ) from None
    names = None
    if header:
        if not records:
            raise LandingFileError(path, "has no fields in its first row", row=1)
        names = list(records[0])
        while names and not names[-1].strip():
            names.pop()
        width = len(names)
    width = width or max((len(record) for record in records), default=0)
    if not width:
        raise LandingFileError(path, "has no fields in its first row", row=1)
    rows, numbers, bad_rows = [], [], []
    skip = header_rows if header else 0
    for number, record in enumerate(records[skip:], start=skip + 1):
        fields = list(record)
        while len(fields) > width and not fields[-1].strip():
            fields.pop()
        if not any(field.strip() for field in fields):
            continue  # a line with nothing on it is no row of data
        if len(fields) != width:
            bad_rows.append((number, width, len(record)))
            continue
        rows.append([field if field != "" else None for field in fields])
        numbers.append(number)
    if records and bad_rows and bad_rows[-1][0] == len(records) and not text.endswith(("\n", "\r")):
        raise LandingFileError(
            path,
            f"ends mid-row: its last row has {bad_rows[-1][2]} of {width} fields and no line end, so the file "
            "is cut short (truncated); deliver it again",
            row=bad_rows[-1][0],
        )
    table = pa.table({f"c{index}": pa.array([row[index] for row in rows], pa.string()) for index in range(width)})
    return Delimited(names, table, np.array(numbers, dtype=np.int64), bad_rows, delimiter)


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
