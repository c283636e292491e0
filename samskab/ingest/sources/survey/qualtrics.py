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

from samskab.ingest.sources.common import LandingFileError, Reject, require_file
from samskab.ingest.sources.survey.export import (
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
from samskab.ingest.sources.text_files import (
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


# Qualtrics writes commas (its CSV), tabs (its TSV); Excel re-saves it with semicolons in Denmark.
DELIMITERS = ("\t", ";", ",")
ID_COLUMNS = ("ResponseId", "ResponseID", "_recordId")


def looks_like_qualtrics(text: str) -> bool:
    """A Qualtrics export names ResponseId in its first row, or (legacy) ResponseID in its second."""
    first, second = [*first_records(text, sniff_delimiter(text, DELIMITERS), 2), [], []][:2]
    first = [name.strip() for name in first]
    return any(name in first for name in ID_COLUMNS) or "ResponseID" in [name.strip() for name in second]


def _import_id(cell: str | None) -> str | None:
    """The column's id in a row-3 cell: `{"ImportId":"QID1"}` (JSON) or `{'ImportId': 'QID1'}`, with any
    further key that tells columns of one question apart (`{"ImportId":"QID5","choiceId":"2"}` ->
    `QID5 choiceId=2`); the time zone of a date column is no part of it."""
    if not cell:
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(cell)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict) and "ImportId" in value:
            extra = [f"{key}={value[key]}" for key in sorted(value) if key not in ("ImportId", "timeZone")]
            return " ".join([str(value["ImportId"]), *extra])
    return None


def column_names(tags: list[str], import_ids: list[str | None]) -> tuple[list[str], list[str | None]]:
    """Each column's variable name and its other identifier, so that every name is unique.

    A column is identified by its ImportId: one whose export tag is unique keeps the tag as its name (the
    name a mapping entry or the study's item map uses), with the ImportId beside it as question name; the
    columns that repeat a tag (Qualtrics allows it) are named by their ImportId and keep the tag as
    question name. Without an ImportId (the legacy form), a repeated tag is numbered: `Q1 (2)`."""
    counts: dict[str, int] = {}
    for tag in tags:
        counts[tag] = counts.get(tag, 0) + 1
    id_counts: dict[str | None, int] = {}
    for import_id in import_ids:
        id_counts[import_id] = id_counts.get(import_id, 0) + 1
    names, others, seen, taken = [], [], {}, set()
    for tag, import_id in zip(tags, import_ids, strict=True):
        seen[tag] = seen.get(tag, 0) + 1
        if counts[tag] == 1:
            name, other = tag, import_id
        elif import_id and id_counts[import_id] == 1:
            name, other = import_id, tag
        else:
            name, other = f"{tag} ({seen[tag]})", import_id or tag
        while name in taken:
            name += "'"
        taken.add(name)
        names.append(name)
        others.append(other)
    return names, others


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
    delimiter = sniff_delimiter(text, DELIMITERS)
    tags = [name.strip() for name in first_record(text, delimiter)]
    records = first_records(text, delimiter, 3)
    texts = records[1] if len(records) > 1 else []
    legacy = "ResponseID" in [cell.strip() for cell in texts] and not any(name in tags for name in ID_COLUMNS)
    if legacy:
        # Qualtrics' own columns are V1, V2, ... in row 1; row 2 names them.
        if len(texts) < len(tags):
            raise LandingFileError(
                path, f"row 2 has {len(texts)} fields where row 1 names {len(tags)}: the export is cut short", row=2
            )
        tags = [
            texts[index].strip() if name.startswith("V") and name[1:].isdigit() else name
            for index, name in enumerate(tags)
        ]
        header_rows, import_ids = 2, [None] * len(tags)
    else:
        third = records[2] if len(records) > 2 else []
        import_ids = [_import_id(cell) for cell in third] + [None] * (len(tags) - len(third))
        if not any(import_ids):
            raise LandingFileError(
                path,
                "row 3 holds no ImportId cells: the export is neither Qualtrics' three-row nor its legacy form",
                row=3,
            )
        header_rows = 3
    while tags and not tags[-1]:  # legacy exports end every row with a separator
        tags.pop()
    import_ids = import_ids[: len(tags)]
    if "" in tags:
        raise LandingFileError(path, f"row 1 leaves column {tags.index('') + 1} without a name", row=1)
    names, question_names = column_names(tags, import_ids)
    parsed = parse_delimited(text, path, delimiter=delimiter, header=True, header_rows=header_rows)
    if parsed.n_rows == 0:
        raise LandingFileError(path, "has its header rows but no responses (no data rows)")
    data = pa.table({name: blank_to_null(parsed.table.column(index)) for index, name in enumerate(names)})
    columns = zip(tags, names, import_ids, strict=True)
    kinds = [_kind(tag, data.column(name), import_id) for tag, name, import_id in columns]
    labels = [texts[index].strip() or None if index < len(texts) else None for index in range(len(names))]
    variables = plain_codebook(path, names, labels, kinds, question_names=question_names, source_row=1)
    rejects = [_bad_row(path, row, expected, found) for row, expected, found in parsed.bad_rows]
    form = "legacy two-row" if legacy else "three-row"
    repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
    notes = (
        [
            f"{len(repeated)} export tags name more than one column ({', '.join(repeated[:5])}"
            f"{', ...' if len(repeated) > 5 else ''}); those columns are named by their ImportId (or numbered, in "
            "the legacy form) and keep the tag as their question name"
        ]
        if repeated
        else []
    )
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
        notes=notes,
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
