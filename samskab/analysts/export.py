"""Export published marts to the files analysts open: Parquet, CSV for Danish Excel, Excel, SPSS and Stata.

`export_tables` reads from an open read-only connection on the published file and writes one file per
table into a folder, with a README.txt and a data_dictionary.csv beside them. Each file is written under
a temporary name and renamed in, so a folder never holds half a file.

- parquet: DuckDB's own COPY, with the source and the table description in the file's key-value metadata.
- csv: what Danish Excel opens with a double click: UTF-8 with a byte order mark, `;` between fields,
  decimal comma, no thousands separator, ISO dates, booleans as 1/0, null as an empty field.
- xlsx: a data sheet named after the table and a sheet "om" (about) with the source, the table's
  description and its column dictionary. A table above Excel's row limit is refused: use parquet or csv.
- sav (SPSS) and dta (Stata), through pyreadstat: variable labels from meta.data_dictionary, value labels
  (Danish) from meta.value_labels for every column with a codebook, booleans as 0/1 labelled Nej/Ja.

Exports carry no identifying data. The published file holds none, and this module guards it again: only
tables of schema `main` are exported, and a table with a column whose name suggests a direct identifier
(DENIED_COLUMN_PATTERNS) is refused. A refused table does not stop the others: they are exported, and
`ExportRefused` is raised at the end naming every refused table (with `.exported` holding what was written).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from samskab.common.atomic_files import write_atomically
from samskab.publish.catalog import DICTIONARY_COLUMNS

FORMATS = ("parquet", "csv", "xlsx", "sav", "dta")

# Rows of an Excel sheet, its header row included (Excel 2007 and later). Tests lower it.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_CELL_CHARS = 32_767
XLSX_ABOUT_SHEET = "om"

# Stata (dta release 118, Stata 14 and later): names up to 32 characters; variable, value-set and file
# labels up to 80 characters (ReadStat refuses longer ones).
STATA_VERSION = 14  # pyreadstat's "version 14" writes release 118: read by Stata 14 and every later Stata
STATA_MAX_NAME = 32
STATA_MAX_LABEL = 80
# SPSS: names up to 64 bytes; variable labels 255 and value labels 120 bytes, the file label 64 bytes
# (ReadStat cuts longer ones, possibly inside a letter: we shorten them ourselves, at a word).
SPSS_MAX_NAME_BYTES = 64
SPSS_MAX_LABEL_BYTES = 255
SPSS_MAX_VALUE_LABEL_BYTES = 120
SPSS_MAX_FILE_LABEL_BYTES = 64
SPSS_MAX_STRING_BYTES = 32_767
SPSS_NOTE_LINE_BYTES = 80  # a document (note) line of a .sav file
BOOLEAN_LABELS = {0: "Nej", 1: "Ja"}
# A table of answers (survey_answers_labelled) holds each answer's raw code on its question's scale, the
# code's Danish label and whether it is "Ved ikke". The raw code gets the labels it has on every scale it
# occurs on, and a code that is "Ved ikke" wherever it occurs is declared missing (SPSS: a user-missing
# value; Stata: the extended missing value .a, labelled), as is the codebook's "Ved ikke" category: a mean
# of the codes then leaves it out, as the marts' shares do.
ANSWER_CODE, ANSWER_LABEL, DONT_KNOW_FLAG = "answer_code", "answer_label_da", "is_dont_know"
DONT_KNOW_VALUE = "dont_know"  # the codebook value of "Ved ikke"
STATA_DONT_KNOW = "a"  # Stata's extended missing value .a
# SPSS column widths in Data View, in characters: text as wide as its longest value within these bounds.
SPSS_MIN_WIDTH, SPSS_MAX_WIDTH = 8, 60
ELLIPSIS = "…"

# Column names that suggest a direct identifier. The marts use none of them; a table with one is refused.
# (`municipality_name` names a municipality, and `respondent_pseudonym` is a keyed pseudonym: both allowed.)
DENIED_COLUMN_PATTERNS = (
    "respondent_name",
    "respondent_navn",
    "informant_name",
    "informant_navn",
    "person_name",
    "email",
    "e_mail",
    "phone",
    "telefon",
    "cpr",
    "address",
    "adresse",
    "free_text",
    "fritekst",
    "comment",
    "kommentar",
)
EXPORTABLE_SCHEMA = "main"

STATA_RESERVED = {
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N",
    "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
}  # fmt: skip
SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}

CSV_BATCH_ROWS = 10_000


class ExportRefused(Exception):
    """A table was not exported, for a reason its message says; `exported` lists what was written anyway."""

    def __init__(self, message: str, refused: dict[str, str] | None = None, exported: list[Exported] | None = None):
        super().__init__(message)
        self.refused = dict(refused or {})
        self.exported = list(exported or [])


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    n_rows: int


# --- what the published file says about its tables ----------------------------------------------------


@dataclass
class _Column:
    name: str
    data_type: str  # DuckDB's type, from information_schema
    description: str | None = None
    question_da: str | None = None
    codebook: str | None = None

    @property
    def kind(self) -> str:
        return _kind(self.data_type)


@dataclass
class _Table:
    name: str
    columns: list[_Column]
    description: str | None = None
    dictionary_rows: list[tuple] = field(default_factory=list)


def _kind(data_type: str) -> str:
    """How a DuckDB type is written: bool, int, bigint (beyond 64 bits), float, decimal, date, timestamp,
    timestamptz, string, or other (lists, structs, times, intervals ...: written as DuckDB's text)."""
    upper = data_type.upper()
    if upper == "BOOLEAN":
        return "bool"
    if upper in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}:
        return "int"
    if upper in {"UBIGINT", "HUGEINT", "UHUGEINT"}:
        return "bigint"
    if upper in {"DOUBLE", "FLOAT", "REAL"}:
        return "float"
    if upper.startswith("DECIMAL") or upper.startswith("NUMERIC"):
        return "decimal"
    if upper == "DATE":
        return "date"
    if upper in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return "timestamptz"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper == "VARCHAR" or upper.startswith("VARCHAR("):
        return "string"
    return "other"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_table(connection, schema: str, table: str) -> bool:
    row = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


class _Catalog:
    """The file's tables of schema main, its data dictionary and its codebooks' value labels, read once.

    A file without meta.data_dictionary or meta.value_labels (published before they existed) still
    exports: without descriptions and value labels."""

    def __init__(self, connection):
        self.connection = connection
        self.has_dictionary = _has_table(connection, "meta", "data_dictionary")
        self.has_value_labels = _has_table(connection, "meta", "value_labels")
        self.value_labels: dict[str, list[tuple[str, int, str]]] = {}
        if self.has_value_labels:
            rows = connection.execute(
                "select codebook, value, code, label_da from meta.value_labels order by codebook, sort_order, code"
            ).fetchall()
            for codebook, value, code, label_da in rows:
                self.value_labels.setdefault(codebook, []).append((value, int(code), label_da or str(value)))

    def table(self, name: str) -> _Table | None:
        columns = [
            _Column(column, data_type)
            for column, data_type in self.connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() and table_schema = ? and table_name = ? "
                "order by ordinal_position",
                [EXPORTABLE_SCHEMA, name],
            ).fetchall()
        ]
        if not columns:
            return None
        table = _Table(name, columns)
        if self.has_dictionary:
            rows = self.connection.execute(
                f"select {', '.join(DICTIONARY_COLUMNS)} from meta.data_dictionary "
                "where table_schema = ? and table_name = ? order by ordinal_position nulls first, column_name",
                [EXPORTABLE_SCHEMA, name],
            ).fetchall()
            table.dictionary_rows = rows
            by_name = {column.name: column for column in columns}
            for _, _, column_name, _, _, description, question_da, codebook in rows:
                if column_name is None:
                    table.description = description
                elif column_name in by_name:
                    column = by_name[column_name]
                    column.description, column.question_da, column.codebook = description, question_da, codebook
        return table


def _split_name(requested: str) -> tuple[str, str]:
    schema, dot, table = requested.partition(".")
    if not dot:
        return EXPORTABLE_SCHEMA, requested
    return schema.strip('"'), table.strip('"')


def identifying_columns(columns: Iterable[str]) -> list[str]:
    """The column names that match DENIED_COLUMN_PATTERNS (case-insensitive, anywhere in the name)."""
    return [name for name in columns if any(pattern in name.casefold() for pattern in DENIED_COLUMN_PATTERNS)]


# --- labels and names for SPSS and Stata ---------------------------------------------------------------


def shorten(text: str, max_chars: int, max_bytes: int | None = None) -> str:
    """`text` on one line, cut at a word boundary and ended with "…" when it is longer than `max_chars`
    characters (or `max_bytes` bytes of UTF-8)."""
    text = " ".join(text.split())

    def fits(candidate: str) -> bool:
        return len(candidate) <= max_chars and (max_bytes is None or len(candidate.encode("utf-8")) <= max_bytes)

    if fits(text):
        return text
    cut = text
    while cut and not fits(cut + ELLIPSIS):
        space = cut.rfind(" ")
        # Cut at the last space; a single word longer than the limit is cut inside the word.
        cut = cut[:space].rstrip(" ,;:-–(") if space > 0 else cut[:-1]
    return cut + ELLIPSIS


def _lines_of_bytes(text: str, max_bytes: int) -> list[str]:
    """`text` in lines of at most `max_bytes` bytes of UTF-8, broken between words (a longer word is cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word.encode("utf-8")) > max_bytes:
            cut = max_bytes
            while len(word[:cut].encode("utf-8")) > max_bytes:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if len(candidate.encode("utf-8")) <= max_bytes:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _statistical_names(columns: list[str], fmt: str) -> dict[str, str]:
    """A valid, unique SPSS or Stata variable name for every column (the column's own name when it is one)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column)
        if fmt == "sav":
            if not re.match(r"[A-Za-z]", name):
                name = "v" + name
            if name.upper() in SPSS_RESERVED:
                name += "_"
            limit = SPSS_MAX_NAME_BYTES
        else:
            if not re.match(r"[A-Za-z_]", name):
                name = "v" + name
            if name in STATA_RESERVED or re.fullmatch(r"str\d+", name):
                name += "_"
            limit = STATA_MAX_NAME
        name = name[:limit]
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = name[: limit - len(suffix)] + suffix
        taken.add(candidate.casefold())
        names[column] = candidate
    return names


def _variable_label(column: _Column, fmt: str) -> str | None:
    if not column.description:
        return None
    if fmt == "dta":
        return shorten(column.description, STATA_MAX_LABEL)
    return shorten(column.description, SPSS_MAX_LABEL_BYTES, SPSS_MAX_LABEL_BYTES)


def _value_label(label: str, fmt: str) -> str:
    if fmt == "dta":
        return shorten(label, STATA_MAX_LABEL)
    return shorten(label, SPSS_MAX_VALUE_LABEL_BYTES, SPSS_MAX_VALUE_LABEL_BYTES)


def _file_label(source_label: str, fmt: str) -> str:
    if fmt == "dta":
        return shorten(source_label, STATA_MAX_LABEL)
    return shorten(source_label, SPSS_MAX_FILE_LABEL_BYTES, SPSS_MAX_FILE_LABEL_BYTES)


# --- reading a table --------------------------------------------------------------------------------


def _select(table: _Table, purpose: str) -> str:
    """The table's rows, each column converted in DuckDB (fast, vectorised) for the writer of `purpose`.

    - "csv": every column but the floating-point ones as its CSV text (see _csv_expression), null as "";
    - "xlsx": booleans as 1/0, decimals as double, timestamps with a time zone in UTC, the rest as Excel
      takes it;
    - "frame": (SPSS, Stata) timestamps with a time zone in UTC; DuckDB's pandas conversion gives nullable
      integers (Int32 ...), nullable booleans, floats for decimals and datetime64 for dates and timestamps.
    Integers beyond 64 bits become double, and types without a counterpart in the tools (lists, structs,
    times, intervals ...) DuckDB's text."""
    parts = []
    for column in table.columns:
        quoted = _quote_identifier(column.name)
        kind = column.kind
        if purpose == "csv":
            expression = _csv_expression(quoted, kind)
        elif kind == "timestamptz":
            expression = f"timezone('UTC', {quoted})"
        elif kind == "bigint" or (kind == "decimal" and purpose == "xlsx"):
            expression = f"cast({quoted} as double)"
        elif kind == "bool" and purpose == "xlsx":
            expression = f"cast({quoted} as tinyint)"  # as in the CSV: a number Excel sums and averages
        elif kind == "other":
            expression = f"cast({quoted} as varchar)"
        else:
            expression = quoted
        parts.append(f"{expression} as {quoted}")
    return f"select {', '.join(parts)} from {EXPORTABLE_SCHEMA}.{_quote_identifier(table.name)}"


def _frame(connection, table: _Table) -> pd.DataFrame:
    return connection.execute(_select(table, "frame")).df()


def _row_count(connection, table: _Table) -> int:
    return connection.execute(f"select count(*) from {EXPORTABLE_SCHEMA}.{_quote_identifier(table.name)}").fetchone()[0]


# --- CSV for Danish Excel -------------------------------------------------------------------------------


def _csv_expression(quoted: str, kind: str) -> str:
    """A column as the text of its CSV field, null as "". Floating-point columns stay numbers: Python
    writes them (_decimal_comma), since DuckDB's text of a double may have an exponent (1e-05)."""
    if kind == "float":
        return quoted
    if kind == "bool":
        # Booleans as 1/0: Danish Excel reads TRUE/FALSE (and true/false) from a CSV as text, shows its own
        # booleans as SAND/FALSK, and neither sums nor averages them; 1/0 is a number in every locale, so
        # a column's sum counts the true rows and its average is their share. R, Stata and SPSS read 1/0
        # alike.
        return f"case when {quoted} then '1' when not {quoted} then '0' else '' end"
    if kind == "decimal":
        return f"coalesce(replace(cast({quoted} as varchar), '.', ','), '')"  # DuckDB writes no exponent
    if kind == "date":
        # ISO 8601: Danish Excel reads 2026-11-27 as a date (and shows it as it shows dates) in every locale.
        return f"coalesce(strftime({quoted}, '%Y-%m-%d'), '')"
    if kind in {"timestamp", "timestamptz"}:
        # A space, not "T", and whole seconds: Excel reads "2026-11-27 03:00:00" as a date and time, but
        # "2026-11-27T03:00:00" and fractions of a second after a full stop as text. With a time zone: UTC.
        value = f"timezone('UTC', {quoted})" if kind == "timestamptz" else quoted
        return f"coalesce(strftime({value}, '%Y-%m-%d %H:%M:%S'), '')"
    return f"coalesce(cast({quoted} as varchar), '')"


def _decimal_comma(value: float | Decimal) -> str:
    """A number as Danish Excel reads it: decimal comma, no thousands separator, never an exponent."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""  # NaN or infinity: Excel has no such number
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        value = Decimal(repr(value))  # the shortest text that reads back as the same double
    return format(value, "f").replace(".", ",")


def _csv_cell(value: object) -> str:
    """One value of a Python row (the data dictionary) as _csv_expression writes it in SQL."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float | Decimal):
        return _decimal_comma(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_writer(handle):
    return csv.writer(handle, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def write_danish_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> int:
    """Write rows of Python values as CSV for Danish Excel; returns the number of data rows written."""
    n_rows = 0
    # utf-8-sig writes the byte order mark that makes Excel read the file as UTF-8 (æ, ø, å).
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = _csv_writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_cell(value) for value in row])
            n_rows += 1
    return n_rows


def _write_csv(connection, table: _Table, path: Path) -> int:
    floats = [index for index, column in enumerate(table.columns) if column.kind == "float"]
    cursor = connection.execute(_select(table, "csv"))
    n_rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = _csv_writer(handle)
        writer.writerow([column.name for column in table.columns])
        while batch := cursor.fetchmany(CSV_BATCH_ROWS):
            if floats:
                batch = [list(row) for row in batch]
                for row in batch:
                    for index in floats:
                        value = row[index]
                        row[index] = "" if value is None else _decimal_comma(value)
            writer.writerows(batch)
            n_rows += len(batch)
    return n_rows


# --- Parquet ---------------------------------------------------------------------------------------------


def _write_parquet(connection, table: _Table, path: Path, source_label: str, exported_at: str) -> int:
    metadata = {
        "source": source_label,
        "table": table.name,
        "description": " ".join((table.description or "").split()),
        "exported_at": exported_at,
    }
    kv = ", ".join(f"{_quote_literal(key)}: {_quote_literal(value)}" for key, value in metadata.items())
    row = connection.execute(
        f"copy (select * from {EXPORTABLE_SCHEMA}.{_quote_identifier(table.name)}) "
        f"to {_quote_literal(str(path))} (format parquet, kv_metadata {{{kv}}})"
    ).fetchone()
    return int(row[0])


# --- Excel -------------------------------------------------------------------------------------------


def _sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31]


def _excel_text(table: _Table, value: str, sheet):
    """A text as Excel takes it: a text that begins with "=" stays text (never a formula), characters XML
    cannot hold are dropped, and a text longer than a cell holds refuses the table."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if len(value) > XLSX_MAX_CELL_CHARS:
        raise ExportRefused(
            f"{table.name} has a text longer than Excel's {XLSX_MAX_CELL_CHARS} characters in a cell. "
            f"Export {table.name} as parquet or csv instead."
        )
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _write_xlsx(connection, table: _Table, path: Path, source_label: str, exported_at: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    n_rows = _row_count(connection, table)
    if n_rows + 1 > XLSX_MAX_ROWS or len(table.columns) > XLSX_MAX_COLUMNS:
        raise ExportRefused(
            f"{table.name} has {n_rows} rows and {len(table.columns)} columns; an Excel sheet holds at most "
            f"{XLSX_MAX_ROWS - 1} rows below its header and {XLSX_MAX_COLUMNS} columns. "
            f"Export {table.name} as parquet or csv instead."
        )
    # Write-only mode streams rows to the file instead of holding every cell in memory.
    workbook = Workbook(write_only=True)
    title = _sheet_title(table.name)
    data = workbook.create_sheet(title)
    data.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def styled(sheet, value, font=None, alignment=None):
        cell = WriteOnlyCell(sheet, value=_excel_text(table, value, sheet) if isinstance(value, str) else value)
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        return cell

    for index, column in enumerate(table.columns, start=1):
        data.column_dimensions[get_column_letter(index)].width = min(max(len(column.name) + 2, 10), 60)
    data.append([styled(data, column.name, font=bold) for column in table.columns])
    texts = [index for index, column in enumerate(table.columns) if column.kind in {"string", "other"}]
    floats = [index for index, column in enumerate(table.columns) if column.kind == "float"]
    cursor = connection.execute(_select(table, "xlsx"))
    while batch := cursor.fetchmany(CSV_BATCH_ROWS):
        for row in batch:
            if texts or floats:
                row = list(row)
                for index in texts:
                    if row[index] is not None:
                        row[index] = _excel_text(table, row[index], data)
                for index in floats:
                    if row[index] is not None and not math.isfinite(row[index]):
                        row[index] = None  # NaN and infinity: Excel has no such number
            data.append(row)

    about = workbook.create_sheet(XLSX_ABOUT_SHEET if title.casefold() != XLSX_ABOUT_SHEET else "om_tabellen")
    for letter, width in zip("ABCDE", (30, 100, 16, 20, 60), strict=True):
        about.column_dimensions[letter].width = width
    facts = [
        ("Kilde (source)", source_label),
        ("Tabel (table)", table.name),
        ("Beskrivelse (description)", " ".join((table.description or "").split())),
        ("Rækker (rows)", n_rows),
        ("Eksporteret (exported)", exported_at),
    ]
    for label, value in facts:
        about.append([styled(about, label, font=bold, alignment=wrap), styled(about, value, alignment=wrap)])
    about.append([])
    header = ["column_name", "description", "data_type", "codebook", "question_da"]
    about.append([styled(about, name, font=bold) for name in header])
    for column in table.columns:
        values = [
            column.name,
            " ".join((column.description or "").split()),
            column.data_type,
            column.codebook or "",
            column.question_da or "",
        ]
        about.append([styled(about, value, alignment=wrap) for value in values])
    workbook.save(path)
    return n_rows


# --- SPSS and Stata ------------------------------------------------------------------------------------


def _answer_codes(frame: pd.DataFrame) -> tuple[dict[int, str], list[int]]:
    """For a table of answers: the labels of the raw answer codes that mean one thing on every scale, and the
    codes that are "Ved ikke" wherever they occur."""
    pairs = frame[[ANSWER_CODE, ANSWER_LABEL, DONT_KNOW_FLAG]].dropna(subset=[ANSWER_CODE]).drop_duplicates()
    labels, dont_know = {}, []
    for code, rows in pairs.groupby(ANSWER_CODE):
        if rows[ANSWER_LABEL].notna().all() and rows[ANSWER_LABEL].nunique() == 1:
            labels[int(code)] = str(rows[ANSWER_LABEL].iloc[0])
        if rows[DONT_KNOW_FLAG].fillna(False).astype(bool).all():
            dont_know.append(int(code))
    return labels, dont_know


def _labelled_frame(
    frame: pd.DataFrame, table: _Table, catalog: _Catalog, fmt: str
) -> tuple[pd.DataFrame, dict[str, dict[int, str]], dict[str, str], dict[str, list[int]]]:
    """The frame as SPSS and Stata take it, with its value labels, SPSS measurement levels and the codes
    declared missing ("Ved ikke", in a table of answers).

    Codebook columns of text codes become the codebook's integer codes; integer codebook columns keep
    their values; booleans become 0/1 (Nej/Ja); dates become dates; null text becomes "" (neither SPSS
    nor Stata has a missing text, and pyreadstat fails on a null in a Stata strL column)."""
    value_labels: dict[str, dict[int, str]] = {}
    measures: dict[str, str] = {}
    missing: dict[str, list[int]] = {}
    answers = {ANSWER_CODE, ANSWER_LABEL, DONT_KNOW_FLAG} <= set(frame.columns)
    if answers:
        code_labels, dont_know = _answer_codes(frame)
        value_labels[ANSWER_CODE] = {code: _value_label(label, fmt) for code, label in code_labels.items()}
        missing[ANSWER_CODE] = dont_know
    out = {}
    for column in table.columns:
        series = frame[column.name]
        kind = column.kind
        labels = catalog.value_labels.get(column.codebook or "")
        if kind == "bool":
            series = series.astype("Int8")
            value_labels[column.name] = dict(BOOLEAN_LABELS)
            measures[column.name] = "nominal"
        elif labels and kind in {"string", "int"}:
            if kind == "string":
                codes = {value: code for value, code, _ in labels}
                unknown = series.dropna()[~series.dropna().isin(list(codes))]
                if len(unknown):
                    raise ExportRefused(
                        f"{table.name}.{column.name} has {unknown.nunique()} value(s) outside codebook "
                        f"{column.codebook}, so they cannot be given its integer codes; {table.name} is not "
                        f"exported as {fmt}."
                    )
                series = series.map(codes).astype("Int32")
            value_labels[column.name] = {code: _value_label(label, fmt) for _, code, label in labels}
            measures[column.name] = "nominal"
            if answers:
                missing[column.name] = [code for value, code, _ in labels if value == DONT_KNOW_VALUE]
        elif kind == "date":
            series = series.dt.date.astype(object).where(series.notna(), None)
        elif kind in {"string", "other"}:
            series = series.astype(object).where(series.notna(), "")
            series = series.map(str)
            too_long = series.map(lambda text: len(text.encode("utf-8"))).max() if len(series) else 0
            if fmt == "sav" and too_long > SPSS_MAX_STRING_BYTES:
                raise ExportRefused(
                    f"{table.name}.{column.name} has a text longer than SPSS's {SPSS_MAX_STRING_BYTES} bytes. "
                    f"Export {table.name} as parquet or csv instead."
                )
            measures[column.name] = "nominal"
        elif kind in {"int", "float", "decimal", "bigint"}:
            if kind == "int" and _fits_int32(series):
                # Stata's largest integer type is a 4-byte long: a BIGINT column of small counts is stored
                # as one (pyreadstat writes a 64-bit integer as a double).
                series = series.astype("Int32")
            measures[column.name] = "scale"
        out[column.name] = series
    if answers:
        measures[ANSWER_CODE] = "nominal"  # a code on one of several scales, not a number to average
    missing = {name: codes for name, codes in missing.items() if codes}
    return pd.DataFrame(out, index=frame.index), value_labels, measures, missing


def _stata_missing(frame: pd.DataFrame, missing: dict[str, list[int]], value_labels: dict[str, dict]) -> pd.DataFrame:
    """Stata has no user-missing codes: a code declared missing becomes the extended missing value .a, with the
    code's label (a column of numbers and letters, as pyreadstat takes it)."""
    frame = frame.copy()
    for name, codes in missing.items():
        column = frame[name].astype(object).where(frame[name].notna(), None)
        frame[name] = column.map(lambda value, codes=set(codes): STATA_DONT_KNOW if value in codes else value)
        labels = value_labels.setdefault(name, {})
        said = [labels.pop(code) for code in codes if code in labels]
        labels[STATA_DONT_KNOW] = said[0] if said else "Ved ikke"
    return frame


def _spss_widths(frame: pd.DataFrame, formats: dict[str, str]) -> dict[str, int]:
    """SPSS Data View widths from the data: a number as wide as its format, text as its longest value
    (within SPSS_MIN_WIDTH and SPSS_MAX_WIDTH characters); pyreadstat's default is 8 for every column."""
    widths = {}
    for name in frame.columns:
        if name in formats:
            widths[name] = max(int(formats[name][1:].split(".")[0]), SPSS_MIN_WIDTH)
        elif frame[name].dtype == object:
            longest = int(frame[name].map(lambda value: len(str(value))).max()) if len(frame) else 0
            widths[name] = min(max(longest, SPSS_MIN_WIDTH), SPSS_MAX_WIDTH)
    return widths


def _fits_int32(series: pd.Series) -> bool:
    values = series.dropna()
    return values.empty or (int(values.min()) >= -(2**31) + 1 and int(values.max()) <= 2**31 - 1)


def _spss_formats(frame: pd.DataFrame, table: _Table, labelled: set[str]) -> dict[str, str]:
    """SPSS display formats wide enough for the numbers (pyreadstat's default F8.2 shows 2 decimals and
    puts asterisks in a number of more than 8 characters); stored values keep their full precision."""
    formats = {}
    for column in table.columns:
        if column.kind not in {"int", "float", "decimal", "bigint", "bool"}:
            continue
        series = pd.to_numeric(frame[column.name], errors="coerce").astype("float64")
        largest = series.abs().max() if series.notna().any() else 0.0
        digits = len(str(int(largest))) if math.isfinite(largest) else 15
        decimals = 0 if column.kind in {"int", "bool"} or column.name in labelled else 4
        width = max(digits + 1 + (decimals + 1 if decimals else 0), 8 if decimals else 3)
        formats[column.name] = f"F{min(width, 40)}.{decimals}"
    return formats


def _write_statistical(
    connection, table: _Table, path: Path, fmt: str, catalog: _Catalog, source_label: str, exported_at: str
) -> tuple[int, dict[str, str]]:
    import pyreadstat

    frame = _frame(connection, table)
    frame, value_labels, measures, missing = _labelled_frame(frame, table, catalog, fmt)
    names = _statistical_names([column.name for column in table.columns], fmt)
    renamed = {column: name for column, name in names.items() if column != name}
    frame = frame.rename(columns=names)
    column_labels = [_variable_label(column, fmt) for column in table.columns]
    value_labels = {names[column]: labels for column, labels in value_labels.items()}
    missing = {names[column]: codes for column, codes in missing.items()}
    if fmt == "sav":
        formats = _spss_formats(frame.rename(columns={v: k for k, v in names.items()}), table, set(value_labels))
        formats = {names[column]: spss_format for column, spss_format in formats.items()}
        note = [
            f"Source: {source_label}",
            f"Table: {table.name}. Exported {exported_at}.",
            " ".join((table.description or "").split()),
        ]
        note = [line for paragraph in note for line in _lines_of_bytes(paragraph, SPSS_NOTE_LINE_BYTES)]
        pyreadstat.write_sav(
            frame,
            str(path),
            file_label=_file_label(source_label, fmt),
            column_labels=column_labels,
            note=note,
            variable_value_labels=value_labels,
            missing_ranges=missing,
            variable_measure={names[column]: measure for column, measure in measures.items()},
            variable_format=formats,
            variable_display_width=_spss_widths(frame, formats),
        )
    else:
        pyreadstat.write_dta(
            _stata_missing(frame, missing, value_labels),
            str(path),
            file_label=_file_label(source_label, fmt),
            column_labels=column_labels,
            version=STATA_VERSION,
            variable_value_labels=value_labels,
            missing_user_values={name: [STATA_DONT_KNOW] for name in missing},
        )
    return len(frame), renamed


# --- README.txt and data_dictionary.csv --------------------------------------------------------------


FORMAT_NOTES = {
    "parquet": [
        "Parquet, written by DuckDB: every column keeps its type (integers, decimals, dates, timestamps,",
        "booleans, text). The file's key-value metadata names the source and holds the table description.",
        "Read it with DuckDB, R (arrow::read_parquet), Python (pandas.read_parquet) or Stata 19+.",
    ],
    "csv": [
        "CSV for Danish Excel: UTF-8 with a byte order mark, semicolon (;) between fields, decimal comma",
        "and no thousands separator, a header row, dates as 2026-11-27 (ISO 8601), timestamps to the second",
        "as 2026-11-27 03:00:00 (UTC when the column has a time zone), booleans as 1 (true) and 0 (false),",
        "null as an empty field. Double-click to open in Danish Excel; in R use read.csv2(..., fileEncoding =",
        '"UTF-8-BOM") or readr::read_csv2; in Python pandas.read_csv(..., sep=";", decimal=",").',
    ],
    "xlsx": [
        "Excel workbooks: one data sheet named after the table (header in row 1), and a sheet 'om' (about)",
        "with the source, the table's description and its column dictionary. Booleans are 1 (true) and",
        "0 (false); dates and timestamps are Excel dates. A table of more rows than an Excel sheet holds",
        f"({XLSX_MAX_ROWS - 1:,} below the header) is not exported as xlsx: use parquet or csv.",
    ],
    "sav": [
        "SPSS .sav files: variable labels are the data dictionary's descriptions (English, up to 255",
        "bytes); value labels (Danish) come from the codebooks in meta.value_labels. Text-coded columns",
        "(answer_category) hold the codebook's integer codes, so SPSS shows 'Ved ikke' for dont_know;",
        "integer-coded columns (municipality_code ...) keep their codes, labelled. Booleans are 0/1 labelled",
        "Nej/Ja. Missing text is an empty string. The file label and notes name the source.",
    ],
    "dta": [
        "Stata .dta files (release 118: Stata 14 and later): variable labels are the data dictionary's",
        "descriptions, shortened to Stata's 80 characters at a word (ending in '…'); value labels (Danish)",
        "come from the codebooks in meta.value_labels. Text-coded columns (answer_category) hold the",
        "codebook's integer codes; integer-coded columns keep their codes, labelled. Booleans are 0/1",
        "labelled Nej/Ja. Missing text is an empty string. The file label names the source.",
    ],
}


def _write_readme(
    path: Path,
    fmt: str,
    source_label: str,
    exported_at: str,
    done: list[tuple[Exported, _Table]],
    renames: dict[str, dict[str, str]],
    refused: dict[str, str],
    has_dictionary: bool,
) -> None:
    lines = [
        f"Export of {source_label}",
        "",
        f"Source: {source_label}",
        f"Exported: {exported_at}",
        f"Format: {fmt}",
        "",
        *FORMAT_NOTES[fmt],
        "",
        "data_dictionary.csv describes every column of these tables (the file's meta.data_dictionary), in the",
        "same CSV conventions as above: semicolon, decimal comma, UTF-8 with a byte order mark.",
    ]
    if not has_dictionary:
        lines.append("The source file has no meta.data_dictionary: the files carry no descriptions or value labels.")
    lines += ["", "Tables", "------"]
    for exported, table in done:
        lines += [
            "",
            f"{exported.path.name}  ({exported.n_rows} rows)",
            *_wrapped(_first_paragraph(table.description)),
        ]
        for column, name in renames.get(exported.table, {}).items():
            lines.append(f"  column {column} is named {name} in this file ({fmt} variable names)")
    if refused:
        lines += ["", "Not exported", "------------"]
        for table, reason in refused.items():
            lines += ["", table, *_wrapped(reason)]
    write_atomically(path, "\n".join(lines) + "\n", partial=_temporary(path))


def _first_paragraph(description: str | None) -> str:
    """A table's description up to its first blank line, on one line (data_dictionary.csv has it all)."""
    if not description:
        return "(no description)"
    paragraphs = [part for part in re.split(r"\n\s*\n", description.strip()) if part.strip()]
    text = " ".join(paragraphs[0].split())
    return text + (" (More in data_dictionary.csv.)" if len(paragraphs) > 1 else "")


def _wrapped(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="  ") or [""]


def _write_dictionary(path: Path, done: list[tuple[Exported, _Table]]) -> None:
    temporary = _temporary(path)
    try:
        rows = []
        for _, table in done:
            if table.dictionary_rows:
                rows += table.dictionary_rows
            else:  # a file without meta.data_dictionary: the columns and their types
                rows.append((EXPORTABLE_SCHEMA, table.name, None, 0, None, None, None, None))
                rows += [
                    (EXPORTABLE_SCHEMA, table.name, column.name, position, column.data_type, None, None, None)
                    for position, column in enumerate(table.columns, start=1)
                ]
        rows = [
            (*row[:5], " ".join(row[5].split()) if row[5] else row[5], *row[6:]) for row in rows
        ]  # descriptions on one line
        write_danish_csv(temporary, list(DICTIONARY_COLUMNS), rows)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


# --- the export -------------------------------------------------------------------------------------------


def export_tables(
    connection,
    tables: list[str],
    fmt: str,
    out_dir: Path,
    source_label: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Exported]:
    """Export `tables` (of schema main) of the published file on `connection` as `fmt` into `out_dir`.

    Writes `out_dir/<table>.<fmt>` per table (replacing an existing file), `README.txt` and
    `data_dictionary.csv`, and returns what was written. A table that cannot or must not be exported
    (another schema, an identifying column name, too many rows for Excel ...) does not stop the others;
    `ExportRefused` is raised after them, naming each refused table and why, with `.exported` set."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exported_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    cursor = connection.cursor()  # our own cursor: the caller's pending result stays as it was
    try:
        catalog = _Catalog(cursor)
        done: list[tuple[Exported, _Table]] = []
        refused: dict[str, str] = {}
        renames: dict[str, dict[str, str]] = {}
        for index, requested in enumerate(tables, start=1):
            try:
                table = _refusal_checked(catalog, requested)
                path = out_dir / f"{table.name}.{fmt}"
                temporary = _temporary(path)
                try:
                    if fmt == "parquet":
                        n_rows = _write_parquet(cursor, table, temporary, source_label, exported_at)
                    elif fmt == "csv":
                        n_rows = _write_csv(cursor, table, temporary)
                    elif fmt == "xlsx":
                        n_rows = _write_xlsx(cursor, table, temporary, source_label, exported_at)
                    else:
                        n_rows, renamed = _write_statistical(
                            cursor, table, temporary, fmt, catalog, source_label, exported_at
                        )
                        if renamed:
                            renames[table.name] = renamed
                    os.replace(temporary, path)
                finally:
                    temporary.unlink(missing_ok=True)
                done.append((Exported(table.name, path, n_rows), table))
            except ExportRefused as refusal:
                refused[requested] = str(refusal)
                schema, name = _split_name(requested)
                if schema == EXPORTABLE_SCHEMA:
                    # The folder says what this export holds: no file of an earlier export beside a README
                    # that says the table was not exported.
                    (out_dir / f"{name}.{fmt}").unlink(missing_ok=True)
            if progress is not None:
                progress(requested, index, len(tables))
        _write_readme(
            out_dir / "README.txt", fmt, source_label, exported_at, done, renames, refused, catalog.has_dictionary
        )
        _write_dictionary(out_dir / "data_dictionary.csv", done)
    finally:
        cursor.close()
    exported = [item for item, _ in done]
    if refused:
        raise ExportRefused("\n".join(refused.values()), refused=refused, exported=exported)
    return exported


def _refusal_checked(catalog: _Catalog, requested: str) -> _Table:
    schema, name = _split_name(requested)
    if schema != EXPORTABLE_SCHEMA:
        raise ExportRefused(
            f"{requested} is not exported: only the analysis tables of schema {EXPORTABLE_SCHEMA} are, "
            f"not schema {schema}."
        )
    table = catalog.table(name)
    if table is None:
        raise ExportRefused(f"{requested} is not exported: the file has no table {EXPORTABLE_SCHEMA}.{name}.")
    denied = identifying_columns(column.name for column in table.columns)
    if denied:
        raise ExportRefused(
            f"{requested} is not exported: column(s) {', '.join(denied)} may hold direct identifiers "
            "(names, e-mails, phone numbers, addresses, CPR numbers, free text). Exports carry no identifying data."
        )
    return table


__all__ = ["FORMATS", "ExportRefused", "Exported", "export_tables", "identifying_columns", "shorten"]
