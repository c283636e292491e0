"""SPSS .sav exports (read with pyreadstat): the answers, and the codebook the file carries.

Variable labels and value labels become the export's codebook. User-missing values (SPSS's declared
missing codes, such as 9 "Ved ikke") are kept as the codes they are and flagged in the codebook, never
turned into blanks. Numbers are written in canonical text, dates and times as YYYY-MM-DD HH:MM:SS. A row
is the case number, as SPSS's Data View shows it. SurveyXact's SPSS export keeps its variable names,
so its system, status and identifier variables are found as in its CSV export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from flows.sources.common import LandingFileError, require_file
from flows.sources.survey.export import (
    CODE,
    DATE,
    LABEL_COLUMNS,
    NUMBER,
    TEXT,
    TIMESTAMP_FORMAT,
    SurveyExport,
    blank_to_null,
    format_numbers,
    plain_codebook,
)
from flows.sources.survey.surveyxact import SURVEYXACT

DATE_FORMATS = ("DATE", "ADATE", "EDATE", "SDATE", "JDATE", "DATETIME", "YMDHMS", "TIME", "DTIME")


def read_sav(path: Path) -> SurveyExport:
    """Read one .sav file into the shape-neutral export."""
    require_file(path, "the SPSS file")
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    except Exception:  # pyreadstat's messages may quote the file; none of it is shown
        raise LandingFileError(
            path, "is not a readable SPSS .sav file (damaged, cut short, or another format named .sav)"
        ) from None
    if frame.shape[1] == 0:
        raise LandingFileError(path, "holds no variables")
    if frame.shape[0] == 0:
        raise LandingFileError(path, "holds variables but no cases (no data rows)")
    names = list(meta.column_names)
    formats = meta.original_variable_types or {}
    labels = meta.column_names_to_labels or {}
    value_labels = meta.variable_value_labels or {}
    columns, kinds = {}, []
    for name in names:
        series = frame[name]
        kind = _kind(series, formats.get(name, ""), name in value_labels)
        kinds.append(kind)
        columns[name] = _column_text(series)
    data = pa.table(columns)
    variables = plain_codebook(path, names, [labels.get(name) or None for name in names], kinds)
    survey_ids = data.column("survey").drop_null().unique().to_pylist() if "survey" in names else []
    return SurveyExport(
        format="spss-sav",
        shape=f"SPSS .sav ({len(names)} variables, {frame.shape[0]} cases)",
        data_file=path,
        data=data,
        rows=np.arange(1, frame.shape[0] + 1, dtype=np.int64),
        variables=variables,
        labels=_labels(path, value_labels, meta),
        conventions=SURVEYXACT,
        files=[path],
        title=meta.file_label or None,
        survey_id=survey_ids[0] if len(survey_ids) == 1 else None,
    )


def _kind(series: pd.Series, spss_format: str, has_labels: bool) -> str:
    if pd.api.types.is_datetime64_any_dtype(series) or spss_format.upper().startswith(DATE_FORMATS):
        return DATE
    if pd.api.types.is_numeric_dtype(series):
        return CODE if has_labels else NUMBER
    return TEXT


def _column_text(series: pd.Series) -> pa.Array:
    if pd.api.types.is_datetime64_any_dtype(series):
        return pa.array(series.dt.strftime(TIMESTAMP_FORMAT).to_numpy(dtype=object, na_value=None), pa.string())
    if pd.api.types.is_numeric_dtype(series):
        return pa.array(format_numbers(series.to_numpy(dtype=float)), pa.string())
    values = series.to_numpy(dtype=object)
    text = np.array([value if isinstance(value, str) else None for value in values], dtype=object)
    return blank_to_null(pa.array(text, pa.string()))


def _labels(path: Path, value_labels: dict, meta) -> pd.DataFrame:
    declared = _declared_missing(meta)
    rows = []
    for name, labels in value_labels.items():
        for order, (value, label) in enumerate(labels.items(), start=1):
            text = format_numbers(np.array([float(value)]))[0] if isinstance(value, int | float) else str(value)
            rows.append(
                {
                    "variable_name": name,
                    "value": text,
                    "label": label,
                    "sort_order": order,
                    "is_declared_missing": _is_declared(declared.get(name, []), value),
                    "source_file": str(path),
                    "source_row": None,
                }
            )
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def _declared_missing(meta) -> dict[str, list]:
    declared: dict[str, list] = {}
    for name, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        declared.setdefault(name, []).extend((item["lo"], item["hi"]) for item in ranges)
    for name, values in (getattr(meta, "missing_user_values", None) or {}).items():
        declared.setdefault(name, []).extend((value, value) for value in values)
    return declared


def _is_declared(ranges: list, value) -> bool:
    try:
        return any(low <= value <= high for low, high in ranges)
    except TypeError:
        return any(value in (low, high) for low, high in ranges)
