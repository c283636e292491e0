"""Qualtrics CSV exports: the three-row header of today and the two-row legacy form.

- Today: row 1 the column names, row 2 the question texts, row 3 `{"ImportId":"QID1"}` (JSON) or, in
  older exports, `{'ImportId': 'QID1'}`; answers from row 4.
- Legacy: row 1 `V1 ... V10` for Qualtrics' own columns and the question names, row 2 the texts (which
  name those first columns: ResponseID, ResponseSet, Name, ...); answers from row 3.

Qualtrics writes no value labels into a CSV: answers are the numeric codes when exported with "use
numeric values". A column whose every answer is a number is a numeric variable; any other is free text.
The recipient's name and e-mail become pseudonyms; IP address and location are never stored.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from flows.sources.common import LandingFileError, Reject, require_file
from flows.sources.survey.export import (
    CHOICE_TEXT,
    DATE,
    NUMBER,
    TEXT,
    Conventions,
    SurveyExport,
    blank_to_null,
    canonical_numbers,
    empty_labels,
    plain_codebook,
)
from flows.sources.text_files import (
    DELIMITER_NAMES,
    first_record,
    first_records,
    parse_delimited,
    read_text,
    sniff_delimiter,
)

QUALTRICS = Conventions(
    respondent_id=("ResponseId", "ResponseID", "_recordId"),
    names=("RecipientFirstName", "RecipientLastName", "Name"),
    emails=("RecipientEmail", "EmailAddress"),
    dropped=(
        "IPAddress",
        "LocationLatitude",
        "LocationLongitude",
        "LocationAccuracy",
        "ExternalReference",
        "ExternalDataReference",
    ),
    started=("StartDate",),
    closed=("EndDate",),
    modified=("RecordedDate",),
    finished=("Finished",),
    system=frozenset(
        {
            "Status",
            "Progress",
            "Duration (in seconds)",
            "Finished",
            "DistributionChannel",
            "UserLanguage",
            "ResponseSet",
        }
    ),
)
TIMESTAMP_COLUMNS = frozenset({"StartDate", "EndDate", "RecordedDate"})
MAX_CHOICES, MAX_CHOICE_LENGTH = 40, 80


def looks_like_qualtrics(text: str) -> bool:
    """A Qualtrics export names ResponseId in its first row, or (legacy) ResponseID in its second."""
    first, second = [*first_records(text, sniff_delimiter(text, ("\t", ",")), 2), [], []][:2]
    return "ResponseId" in first or "ResponseID" in first or "ResponseID" in second


def _import_id(cell: str | None) -> str | None:
    """The question id of a row-3 cell: `{"ImportId":"QID1"}` (JSON) or `{'ImportId': 'QID1'}`."""
    if not cell:
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(cell)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict) and "ImportId" in value:
            return str(value["ImportId"])
    return None


def read_qualtrics_csv(path: Path) -> SurveyExport:
    """Read one Qualtrics CSV export (either header form)."""
    require_file(path, "the Qualtrics export")
    decoded = read_text(path)
    text = decoded.text
    if not looks_like_qualtrics(text):
        raise LandingFileError(
            path,
            "is not a Qualtrics export (no ResponseId column in its first rows). A SurveyXact export goes into a "
            "folder of its own with dataset.csv, structure.csv and labels.csv",
            row=1,
        )
    delimiter = sniff_delimiter(text, ("\t", ","))
    names = [name.strip() for name in first_record(text, delimiter)]
    records = first_records(text, delimiter, 3)
    texts = records[1] if len(records) > 1 else []
    legacy = "ResponseID" in texts and "ResponseId" not in names
    if legacy:
        # Qualtrics' own columns are V1, V2, ... in row 1; row 2 names them.
        names = [
            texts[index] if name.startswith("V") and name[1:].isdigit() else name for index, name in enumerate(names)
        ]
        header_rows, import_ids = 2, [None] * len(names)
    else:
        third = records[2] if len(records) > 2 else []
        import_ids = [_import_id(cell) for cell in third] + [None] * (len(names) - len(third))
        if not any(import_ids):
            raise LandingFileError(
                path,
                "row 3 holds no ImportId cells: the export is neither Qualtrics' three-row nor its legacy form",
                row=3,
            )
        header_rows = 3
    while names and not names[-1]:  # legacy exports end every row with a separator
        names.pop()
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise LandingFileError(path, f"names the columns {', '.join(duplicated)} twice in row 1", row=1)
    parsed = parse_delimited(text, path, delimiter=delimiter, header=True, header_rows=header_rows)
    if parsed.n_rows == 0:
        raise LandingFileError(path, "has its header rows but no responses (no data rows)")
    data = pa.table({name: blank_to_null(parsed.table.column(index)) for index, name in enumerate(names)})
    kinds = [_kind(name, data.column(name), import_id) for name, import_id in zip(names, import_ids, strict=False)]
    labels = [texts[index] if index < len(texts) and texts[index] else None for index in range(len(names))]
    variables = plain_codebook(path, names, labels, kinds, question_names=import_ids[: len(names)], source_row=1)
    rejects = [_bad_row(path, row, expected, found) for row, expected, found in parsed.bad_rows]
    form = "legacy two-row" if legacy else "three-row"
    return SurveyExport(
        format="qualtrics-csv",
        shape=f"Qualtrics CSV ({form} header), {DELIMITER_NAMES[delimiter]}-separated, {decoded.encoding}",
        data_file=path,
        data=data,
        rows=parsed.rows,
        variables=variables,
        labels=empty_labels(),
        conventions=QUALTRICS,
        files=[path],
        rejects=rejects,
    )


def _kind(name: str, values: pa.Array, import_id: str | None) -> str:
    """Numbers are numbers. Words are free text when Qualtrics says so (an ImportId with _TEXT) or cannot
    say (the legacy form); words in a question's own column are its choices, exported as choice text."""
    if name in TIMESTAMP_COLUMNS:
        return DATE
    if values.null_count == len(values):
        return NUMBER
    _, _, invalid = canonical_numbers(values)
    if not invalid.any():
        return NUMBER
    if import_id and import_id.startswith("QID") and "_TEXT" not in import_id and _reads_as_choices(values):
        return CHOICE_TEXT
    return TEXT


def _reads_as_choices(values: pa.Array) -> bool:
    """A closed question's words are few and short. Anything else is kept as free text (raw only), so a
    text column Qualtrics did not mark can never carry what a respondent wrote into the tables dbt reads."""
    distinct = pc.unique(values.drop_null())
    return len(distinct) <= MAX_CHOICES and pc.max(pc.utf8_length(distinct)).as_py() <= MAX_CHOICE_LENGTH


def _bad_row(path: Path, row: int, expected: int, found: int) -> Reject:
    return Reject("survey", str(path), row, None, f"has {found} fields; the header has {expected}")
