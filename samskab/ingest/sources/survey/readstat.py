"""SPSS (.sav, .zsav, .por) and Stata (.dta) files, read with pyreadstat: the answers and their codebook.

Variable labels and value labels become the export's codebook; each variable's display format (SPSS
`DTIME9`, Stata `%td`) is kept in its `sub_type`. Declared missing values are kept as the codes they
are and flagged in the codebook, never turned into blanks: SPSS's user-missing codes (9 "Ved ikke",
ranges) and Stata's extended missing values, written `.a` ... `.z`. A row is the case number, as SPSS's
Data View and Stata's browser show it.

Values in canonical text: numbers without trailing zeros; dates as YYYY-MM-DD and date-times as
YYYY-MM-DD HH:MM:SS (SPSS's quarter, month and week formats too, at their first day); SPSS times and
durations (TIME, MTIME, DTIME) as the seconds SPSS stores, days included; Stata's times of day as
seconds since midnight.

Encodings: an SPSS file names its own. Stata files before release 118 do not, and files written by
other programs sometimes hold another encoding than their release says; so the text of a .dta file is
judged from its bytes as any 8-bit text file is (`samskab.ingest.sources.text_files`): UTF-8 when it is, else the
one 8-bit encoding its letters fit; a file whose encoding cannot be told is refused, naming the
candidates, never read with wrong letters.

Which respondent id and identifying variables a file has follows the program that made it: SurveyXact's
and Qualtrics' SPSS exports keep their variable names, and any other file is read by the general rules
(an id named like one and unique; names and e-mails by their usual variable names).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from samskab.ingest.sources.common import LandingFileError, require_file
from samskab.ingest.sources.survey.export import (
    CHOICE_TEXT,
    CODE,
    DATE,
    LABEL_COLUMNS,
    NUMBER,
    TEXT,
    TIMESTAMP_FORMAT,
    Conventions,
    SurveyExport,
    blank_to_null,
    format_numbers,
    plain_codebook,
)
from samskab.ingest.sources.survey.qualtrics import QUALTRICS
from samskab.ingest.sources.survey.surveyxact import SURVEYXACT
from samskab.ingest.sources.text_files import EIGHT_BIT_NAMES, eight_bit_encoding, undecided_8bit_reason

SPSS_EPOCH = datetime(1582, 10, 14)
# SPSS formats, by what the stored number (seconds since SPSS_EPOCH, or seconds) means.
SPSS_DATES = ("DATE", "ADATE", "EDATE", "JDATE", "SDATE", "QYR", "MOYR", "WKYR")
SPSS_DATETIMES = ("DATETIME", "YMDHMS")
SPSS_SECONDS = ("TIME", "MTIME", "DTIME")  # a time of day or a duration, kept as seconds
STATA_EXTENDED_MISSING = tuple(f".{letter}" for letter in "abcdefghijklmnopqrstuvwxyz")

# A file made by neither SurveyXact nor Qualtrics: the usual names of identifying variables.
GENERAL = Conventions(
    respondent_id=(),
    names=("name", "navn", "fornavn", "efternavn", "firstname", "first_name", "lastname", "last_name", "fullname"),
    emails=("email", "e_mail", "e-mail", "emailaddress", "email_address", "epost", "e_post", "mail"),
    dropped=("ipaddress", "ip_address", "locationlatitude", "locationlongitude"),
)

FORMATS = {
    ".sav": ("spss-sav", "SPSS .sav"),
    ".zsav": ("spss-sav", "SPSS .zsav (compressed)"),
    ".por": ("spss-por", "SPSS portable .por"),
    ".dta": ("stata-dta", "Stata .dta"),
}


def read_statistical_file(path: Path) -> SurveyExport:
    """Read one SPSS or Stata data file into the shape-neutral export."""
    require_file(path, "the data file")
    import pyreadstat

    suffix = path.suffix.casefold()
    format_name, what = FORMATS[suffix]
    encoding = None
    try:
        if suffix == ".dta":
            encoding = _stata_encoding(path)
            frame, meta = pyreadstat.read_dta(
                str(path), encoding=ICONV_NAMES.get(encoding or ""), user_missing=True, apply_value_formats=False
            )
        elif suffix == ".por":
            frame, meta = pyreadstat.read_por(str(path), disable_datetime_conversion=True, apply_value_formats=False)
        else:
            frame, meta = pyreadstat.read_sav(
                str(path), user_missing=True, disable_datetime_conversion=True, apply_value_formats=False
            )
    except LandingFileError:
        raise
    except Exception:  # pyreadstat's messages may quote the file; none of it is shown
        raise LandingFileError(
            path, f"is not a readable {what} file (damaged, cut short, or another format named {suffix})"
        ) from None
    if frame.shape[1] == 0:
        raise LandingFileError(path, "holds no variables")
    if frame.shape[0] == 0:
        raise LandingFileError(path, "holds variables but no cases (no data rows)")
    names = [str(name) for name in meta.column_names]
    formats = meta.original_variable_types or {}
    value_labels = {str(name): labels for name, labels in (meta.variable_value_labels or {}).items()}
    declared = _declared_missing(meta)
    columns, kinds, missing_codes = {}, [], {}
    for name in names:
        try:
            text, kind = _column(frame[name], formats.get(name) or "", bool(value_labels.get(name)), suffix == ".dta")
        except _OutOfRange as beyond:
            raise LandingFileError(
                path,
                f"variable {name} (a date format) holds a number of seconds that is no date between the years 1 "
                "and 9999: the file is damaged, or the variable is not a date; export it again",
                row=beyond.row,
            ) from None
        columns[name] = text
        kinds.append(kind)
        extended = [value for value in declared.get(name, []) if isinstance(value, str)]
        if suffix == ".dta" and extended:
            missing_codes[name] = frozenset(f".{value}" for value in extended)
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(names), strict=False))
    variables = plain_codebook(path, names, [labels.get(name) or None for name in names], kinds)
    variables["sub_type"] = [formats.get(name) or None for name in names]
    data = pa.table(columns)
    survey_ids = data.column("survey").drop_null().unique().to_pylist() if "survey" in names else []
    file_encoding = {**EIGHT_BIT_NAMES, "utf-8": "UTF-8"}.get(encoding or "") or meta.file_encoding
    return SurveyExport(
        format=format_name,
        shape=f"{what} ({len(names)} variables, {frame.shape[0]} cases"
        + (f", {file_encoding}" if file_encoding else "")
        + ")",
        data_file=path,
        data=data,
        rows=np.arange(1, frame.shape[0] + 1, dtype=np.int64),
        variables=variables,
        labels=_labels(path, value_labels, declared, suffix == ".dta"),
        conventions=_conventions(names),
        files=[path],
        title=(meta.file_label or "").strip() or None,
        survey_id=survey_ids[0] if len(survey_ids) == 1 else None,
        declared_missing=missing_codes,
    )


def _conventions(names: list[str]) -> Conventions:
    """The identifying and system variables of the program that made the file."""
    present = {name.casefold() for name in names}
    if {"responde", "respondentid"} & present or any(name.startswith(("stato_", "statoverall")) for name in present):
        return SURVEYXACT
    if {"responseid", "_recordid"} & present:
        return QUALTRICS
    return GENERAL


# --- text of every cell --------------------------------------------------------------------------------


def _column(series: pd.Series, display: str, has_labels: bool, stata: bool) -> tuple[pa.Array, str]:
    """A column's cells in canonical text, and its kind."""
    upper = display.upper()
    if not stata and pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype=float)
        if upper.startswith(SPSS_DATETIMES):  # before the dates: DATETIME20 starts like DATE11
            return _spss_moments(numbers, TIMESTAMP_FORMAT), DATE
        if upper.startswith(SPSS_DATES):
            return _spss_moments(numbers, "%Y-%m-%d"), DATE
    if pd.api.types.is_datetime64_any_dtype(series):
        return pa.array(series.dt.strftime(TIMESTAMP_FORMAT).to_numpy(dtype=object, na_value=None), pa.string()), DATE
    if pd.api.types.is_numeric_dtype(series):
        return pa.array(format_numbers(series.to_numpy(dtype=float)), pa.string()), CODE if has_labels else NUMBER
    cells = [_cell(value, stata) for value in series.to_numpy(dtype=object)]
    kinds = {type(value) for value in series.to_numpy(dtype=object) if not _is_blank(value)}
    text = blank_to_null(pa.array(cells, pa.string()))
    if kinds & {date, datetime, pd.Timestamp}:
        return text, DATE
    if kinds and kinds <= {str}:
        return text, CHOICE_TEXT if has_labels else TEXT
    return text, CODE if has_labels else NUMBER  # numbers with Stata's .a-.z among them, or times as seconds


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _cell(value: object, stata: bool) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        if stata and len(value) == 1 and value.isalpha() and value.islower():
            return f".{value}"  # pyreadstat gives Stata's extended missing .a-.z as the bare letter
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | np.integer | np.floating):
        return format_numbers(np.array([float(value)]))[0]
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime(TIMESTAMP_FORMAT)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return format_numbers(np.array([seconds]))[0]
    return str(value)


def _spss_moments(numbers: np.ndarray, pattern: str) -> pa.Array:
    """SPSS dates and date-times (seconds since 14 October 1582) as text."""
    out = []
    for index, seconds in enumerate(numbers):
        if not np.isfinite(seconds):
            out.append(None)
            continue
        try:
            out.append((SPSS_EPOCH + timedelta(seconds=float(seconds))).strftime(pattern))
        except (OverflowError, ValueError):
            raise _OutOfRange(index + 1) from None  # the case number
    return pa.array(out, pa.string())


class _OutOfRange(ValueError):
    """A date cell that is no date; `row` is its case number."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


# --- the codebook ---------------------------------------------------------------------------------------


def _declared_missing(meta) -> dict[str, list]:
    """Per variable: (low, high) ranges and single values declared missing; Stata's as their letters."""
    declared: dict[str, list] = {}
    for name, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        declared.setdefault(name, []).extend((item["lo"], item["hi"]) for item in ranges)
    for name, values in (getattr(meta, "missing_user_values", None) or {}).items():
        declared.setdefault(name, []).extend(values)
    return declared


def _is_declared(declared: list, value: object) -> bool:
    for item in declared:
        if isinstance(item, tuple):
            low, high = item
            try:
                if low <= value <= high:
                    return True
            except TypeError:
                if value in (low, high):
                    return True
        elif item == value:
            return True
    return False


def _labels(path: Path, value_labels: dict, declared: dict[str, list], stata: bool) -> pd.DataFrame:
    rows = []
    for name, labels in value_labels.items():
        for order, (value, label) in enumerate(labels.items(), start=1):
            if isinstance(value, int | float):
                text = format_numbers(np.array([float(value)]))[0]
            elif stata and isinstance(value, str) and len(value) == 1 and value.isalpha():
                text = f".{value}"
            else:
                text = str(value)
            rows.append(
                {
                    "variable_name": name,
                    "value": text,
                    "label": str(label),
                    "sort_order": order,
                    "is_declared_missing": _is_declared(declared.get(name, []), value),
                    "source_file": str(path),
                    "source_row": None,
                }
            )
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


# --- Stata's encoding -----------------------------------------------------------------------------------


def _stata_encoding(path: Path) -> str | None:
    """The encoding of a .dta file's text, judged from its bytes (None: pure ASCII, any reading serves).

    The file is read once as Latin-1, which maps every byte to one character, to collect the bytes of
    its names, labels and text cells."""
    import pyreadstat

    frame, meta = pyreadstat.read_dta(str(path), encoding="latin1", apply_value_formats=False)
    texts = [*map(str, meta.column_names), *(label for label in meta.column_labels or [] if label)]
    texts += [str(label) for labels in (meta.variable_value_labels or {}).values() for label in labels.values()]
    texts += [meta.file_label or "", *(getattr(meta, "notes", None) or [])]
    for name in frame.columns:
        if frame[name].dtype == object:
            texts += [value for value in frame[name].to_numpy(dtype=object) if isinstance(value, str)]
    try:
        raw = "\n".join(texts).encode("latin1")
    except UnicodeEncodeError:
        return "utf-8"  # characters beyond one byte: ReadStat read them as UTF-8, as release 118 and later hold
    if raw.isascii():
        return None
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    codec, fitting = eight_bit_encoding(raw)
    if codec is None:
        raise LandingFileError(path, undecided_8bit_reason(fitting))
    return codec


# The names ReadStat (iconv) gives the encodings.
ICONV_NAMES = {"utf-8": "UTF-8", "cp1252": "WINDOWS-1252", "cp850": "CP850", "mac_roman": "MACINTOSH"}
