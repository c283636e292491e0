"""One survey export, whatever shape it arrived in: its answers as a wide table and its codebook.

Every format reader (SurveyXact's CSV files or workbook, Qualtrics CSV, SPSS .sav) produces a
`SurveyExport`; one function (`samskab.ingest.sources.survey.to_raw`) turns any of them into the raw tables. So
the same questionnaire gives the same raw answers and codebook from every shape.

Values are text in one canonical form: blank cells are null (the only missing value); numbers are
written with a decimal point and no trailing zeros ("1", "135.407"); dates and times as
"YYYY-MM-DD HH:MM:SS". Readers of typed formats (workbooks, .sav) write their cells this way; text
formats are brought to it here, column by column, never cell by cell in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from samskab.ingest.sources.common import Reject

CODE, NUMBER, DATE, TEXT = "code", "number", "date", "text"
# A closed question answered in words (a Qualtrics export with choice text instead of numeric values):
# an answer like any other, kept as the words, never mistaken for free text.
CHOICE_TEXT = "choice_text"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# Date and time formats seen in exports, tried in this order for a whole column.
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
)
# The American forms a spreadsheet may re-save dates in (Excel in English: 1/6/18 9:13). A column is read
# in one of them only when every cell reads in it, and never when the day-first form reads every cell too
# (then no cell says which is the month): such a column's cells are rejected, not guessed.
MONTH_FIRST_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y",
)
_PLAIN_INTEGER = r"^-?(0|[1-9][0-9]*)$"
_DECIMAL_COMMA = r"^(-?[0-9]+),([0-9]+)$"

VARIABLE_COLUMNS = [
    "variable_name",
    "position",
    "variable_label",
    "question_name",
    "question_text",
    "item_text",
    "question_type",
    "sub_type",
    "choice_value",
    "value_kind",
    "is_closed",
    "source_file",
    "source_row",
]
LABEL_COLUMNS = ["variable_name", "value", "label", "sort_order", "is_declared_missing", "source_file", "source_row"]


@dataclass(frozen=True)
class Conventions:
    """Where a format keeps what is not a questionnaire answer: the variable names it uses."""

    respondent_id: tuple[str, ...]
    names: tuple[str, ...]  # joined with a space into one name, then pseudonymised
    emails: tuple[str, ...]
    dropped: tuple[str, ...]  # identifying and of no use to the study: never stored (IP address, location)
    created: tuple[str, ...] = ()
    started: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    finished: tuple[str, ...] = ()  # a 1/0 "completed" flag (Qualtrics)
    status_question: str | None = None  # a block of 0/1 variables, one per status (SurveyXact's statoverall)
    status_prefix: str | None = None  # the same block recognised by variable names (stato_1 ... stato_5)
    system: frozenset[str] = frozenset()


@dataclass
class SurveyExport:
    """A survey export read from any shape: `data` has one string column per variable, in export order."""

    format: str
    shape: str  # in words, for lineage: "SurveyXact CSV, semicolon-separated, Windows-1252"
    data_file: Path
    data: pa.Table
    rows: np.ndarray  # the row of each respondent in data_file (or its sheet)
    variables: pd.DataFrame  # VARIABLE_COLUMNS
    labels: pd.DataFrame  # LABEL_COLUMNS
    conventions: Conventions
    files: list[Path]
    data_sheet: str | None = None
    title: str | None = None
    survey_id: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Codes a variable declares missing that are not numbers (Stata's .a-.z): kept as answers.
    declared_missing: dict[str, frozenset[str]] = field(default_factory=dict)


def plain_codebook(
    path: Path,
    names: list[str],
    labels: list[str | None],
    kinds: list[str],
    question_names: list[str | None] | None = None,
    source_row: int | None = None,
) -> pd.DataFrame:
    """The codebook of a format that carries only a label per variable (SPSS, Qualtrics): no question
    structure, no closed-question declaration."""
    return pd.DataFrame(
        {
            "variable_name": names,
            "position": range(1, len(names) + 1),
            "variable_label": labels,
            "question_name": question_names,
            "question_text": labels if question_names else None,
            "item_text": None,
            "question_type": None,
            "sub_type": None,
            "choice_value": None,
            "value_kind": kinds,
            "is_closed": False,
            "source_file": str(path),
            "source_row": source_row,
        }
    )[VARIABLE_COLUMNS]


def empty_labels() -> pd.DataFrame:
    return pd.DataFrame(columns=LABEL_COLUMNS)


def blank_to_null(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Trim spaces; a cell with nothing left is null (blank cells are the only missing value)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def format_numbers(numbers: np.ndarray) -> np.ndarray:
    """Canonical text of floats: whole numbers without a decimal point, others in up to 15 digits,
    infinities as "inf" and "-inf"; NaN (no value) as None."""
    out = np.full(len(numbers), None, dtype=object)
    finite = np.isfinite(numbers)
    whole = finite & (np.floor(numbers) == numbers) & (np.abs(numbers) < 1e15)
    out[whole] = numbers[whole].astype(np.int64).astype(str)
    for index in np.flatnonzero(finite & ~whole):  # fractions are few: durations, shares
        out[index] = format(float(numbers[index]), ".15g")
    out[np.isposinf(numbers)] = "inf"  # a value, never a blank (Stata and SPSS can hold infinities)
    out[np.isneginf(numbers)] = "-inf"
    return out


def canonical_numbers(values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Numbers written as text -> (canonical text, the numbers, which non-blank cells are no number).

    A decimal comma ("135,407", as Danish exports write it) is read as a decimal point."""
    valid = pc.is_valid(values)
    if pc.all(pc.or_kleene(pc.invert(valid), pc.match_substring_regex(values, _PLAIN_INTEGER))).as_py() is not False:
        # The usual case, codes such as "1" or "9": already canonical.
        return values, pc.cast(values, pa.float64()), np.zeros(len(values), dtype=bool)
    text = pc.replace_substring_regex(values, _DECIMAL_COMMA, r"\1.\2")
    series = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    invalid = series.notna().to_numpy() & np.isnan(numbers)
    canonical = format_numbers(numbers)
    return pa.array(canonical, pa.string()), pa.array(numbers, pa.float64(), mask=np.isnan(numbers)), invalid


def parse_timestamps(values: pa.Array) -> tuple[pd.Series, np.ndarray]:
    """Dates and times as text -> (timestamps, which non-blank cells are no date).

    Each format is tried on the whole column; the first that reads every remaining cell ends the search."""
    series = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    remaining = series.notna()
    month_first = _month_first(series[remaining])
    if month_first is not None:
        parsed[remaining] = month_first
        return parsed, (remaining & parsed.isna()).to_numpy()
    for pattern in TIMESTAMP_FORMATS:
        if not remaining.any():
            break
        attempt = pd.to_datetime(series[remaining], format=pattern, errors="coerce")
        parsed[attempt.index] = parsed[attempt.index].where(attempt.isna(), attempt)
        remaining &= parsed.isna()
    return parsed, remaining.to_numpy()


def _month_first(cells: pd.Series) -> pd.Series | None:
    """The column read month first, when one American form reads every cell and its day-first twin does
    not; else None."""
    if cells.empty or not cells.str.contains("/", regex=False).all():
        return None
    for pattern in MONTH_FIRST_FORMATS:
        attempt = pd.to_datetime(cells, format=pattern, errors="coerce")
        if attempt.notna().all():
            twin = pd.to_datetime(cells, format=pattern.replace("%m/%d", "%d/%m"), errors="coerce")
            return None if twin.notna().all() else attempt
    return None


def canonical_timestamps(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    parsed, invalid = parse_timestamps(values)
    text = parsed.dt.strftime(TIMESTAMP_FORMAT).to_numpy(dtype=object, na_value=None)
    if invalid.any():
        # pandas reads only the years 1677-2262; Python's own dates reach from year 1 (an SPSS date of 1583).
        cells = values.to_numpy(zero_copy_only=False)
        for index in np.flatnonzero(invalid):
            moment = _python_timestamp(str(cells[index]).strip())
            if moment is not None:
                text[index], invalid[index] = moment, False
    return pa.array(text, pa.string()), invalid


def _python_timestamp(cell: str) -> str | None:
    for pattern in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(cell, pattern).strftime(TIMESTAMP_FORMAT)
        except ValueError:
            continue
    return None
