"""SurveyXact exports in every shape it ships: dataset, structure and labels.

- A folder of three CSV files, separated by tab, semicolon or comma, in UTF-16 with a byte-order mark,
  UTF-8 (with or without one) or Windows-1252. Encoding and separator are detected per file.
- An .xlsx workbook with the three tables as sheets; a wide dataset may be split over `Dataset(1)`,
  `Dataset(2)`, ..., joined column-wise here.

What SurveyXact writes, and how it is read:
- structure: `questionName, variableName, questionType, subType, questionText, choiceValue,
  choiceText` and a phantom empty column; a dataset column is matched by its variable name, or by its
  question name when the question has one variable (SurveyXact cuts variable names to eight characters
  in the structure but not always in the dataset);
- labels: no header row; `variable, value, label`; the order of a variable's labels is answer order;
- a multiple-choice question has one 0/1 variable per choice (its choiceValue and choiceText); a
  battery's items read "stem - item" in questionText;
- status: the `statoverall` block, one 0/1 variable per status (1 new, 2 distributed, 3 partial,
  4 completed, 5 dropped out).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from samskab.ingest.sources.common import LandingFileError, Reject, open_workbook, require_file
from samskab.ingest.sources.survey.export import (
    CODE,
    DATE,
    LABEL_COLUMNS,
    NUMBER,
    TEXT,
    TIMESTAMP_FORMAT,
    VARIABLE_COLUMNS,
    Conventions,
    SurveyExport,
    format_numbers,
)
from samskab.ingest.sources.text_files import (
    DELIMITER_NAMES,
    first_record,
    parse_delimited,
    parse_records,
    read_text,
    sniff_delimiter,
)

SOURCE = "survey"
EXPORT_FILES = ("dataset.csv", "structure.csv", "labels.csv")
STRUCTURE_HEADER = [
    "questionName",
    "variableName",
    "questionType",
    "subType",
    "questionText",
    "choiceValue",
    "choiceText",
]
NUMERIC_SUB_TYPES = frozenset({"double", "integer", "number", "numeric"})

SURVEYXACT = Conventions(
    respondent_id=("responde", "respondentid"),
    names=("name",),
    emails=("email",),
    dropped=(),
    created=("created",),
    started=("starttim", "startTime"),
    closed=("closetim", "closeTime"),
    modified=("modified",),
    status_question="statoverall",
    status_prefix="stato_",
    system=frozenset(
        {
            "x_exclude",
            "survey",
            "fake",
            "organiza",
            "difftime",
            "response",
            "numberof",
            "importgr",
            "distribu",
            "digitald",
            "lang",
        }
    ),
)


@dataclass
class Sheet:
    """One table of the export: its header, its rows as string columns, and each row's number."""

    file: Path
    name: str | None  # the sheet, for a workbook
    header: list[str] | None
    table: pa.Table  # columns c0, c1, ...
    rows: np.ndarray
    bad_rows: list[tuple[int, int, int]]
    shape: str = ""

    def column(self, index: int) -> list[str | None]:
        if index >= self.table.num_columns:
            return [None] * self.table.num_rows
        return self.table.column(index).to_pylist()


# --- the three CSV files -----------------------------------------------------------------------------


def read_export_folder(folder: Path) -> SurveyExport:
    """Read a folder holding dataset.csv, structure.csv and labels.csv (any SurveyXact CSV shape)."""
    paths = _export_files(folder)
    for name, path in zip(EXPORT_FILES, paths, strict=True):
        require_file(path, f"the export's {name}")
    structure_text = read_text(paths[1])
    structure_delimiter = _structure_delimiter(structure_text.text, paths[1])
    structure = _codebook_sheet(paths[1], structure_text.text, structure_text.encoding, structure_delimiter)
    labels_text = read_text(paths[2])
    labels = _codebook_sheet(paths[2], labels_text.text, labels_text.encoding, _labels_delimiter(labels_text.text))
    dataset_text = read_text(paths[0])
    dataset_delimiter = _dataset_delimiter(dataset_text.text, structure)
    dataset = _sheet(paths[0], dataset_text.text, dataset_text.encoding, dataset_delimiter, header=True)
    shape = f"SurveyXact CSV, {dataset.shape}"
    return build_export("surveyxact-csv", shape, dataset, structure, labels, files=list(paths))


def _export_files(folder: Path) -> tuple[Path, Path, Path]:
    """The three files, matched without regard to case ("Dataset.csv" is dataset.csv)."""
    present = {path.name.casefold(): path for path in folder.iterdir()} if folder.is_dir() else {}
    return tuple(present.get(name, folder / name) for name in EXPORT_FILES)  # type: ignore[return-value]


def _structure_delimiter(text: str, path: Path) -> str:
    for delimiter in DELIMITER_NAMES:
        if text.startswith(f"questionName{delimiter}variableName{delimiter}"):
            return delimiter
    raise LandingFileError(path, f"row 1 is not a SurveyXact structure header ({', '.join(STRUCTURE_HEADER)})", row=1)


def _dataset_delimiter(text: str, structure: Sheet) -> str:
    """The separator under which the dataset's header names the most of the structure's variables."""
    known = {name for name in structure.column(1) if name} | {name for name in structure.column(0) if name}
    return max(DELIMITER_NAMES, key=lambda delimiter: len(known.intersection(first_record(text, delimiter))))


def _labels_delimiter(text: str) -> str:
    """The separator that splits the labels file's first row into a variable, a value and a label."""
    for delimiter in DELIMITER_NAMES:
        fields = first_record(text, delimiter)
        while len(fields) > 3 and not fields[-1].strip():
            fields.pop()
        if len(fields) == 3:
            return delimiter
    return sniff_delimiter(text)


def _codebook_sheet(path: Path, text: str, encoding: str, delimiter: str) -> Sheet:
    """The structure (with its header) or the labels (three fields, no header), trailing separators forgiven."""
    is_structure = text.startswith("questionName")
    parsed = parse_records(text, path, delimiter=delimiter, header=is_structure, width=None if is_structure else 3)
    shape = f"{DELIMITER_NAMES[delimiter]}-separated, {encoding}"
    return Sheet(path, None, parsed.header, parsed.table, parsed.rows, parsed.bad_rows, shape)


def _sheet(path: Path, text: str, encoding: str, delimiter: str, *, header: bool) -> Sheet:
    parsed = parse_delimited(text, path, delimiter=delimiter, header=header)
    shape = f"{DELIMITER_NAMES[delimiter]}-separated, {encoding}"
    return Sheet(path, None, parsed.header, parsed.table, parsed.rows, parsed.bad_rows, shape)


# --- the workbook ------------------------------------------------------------------------------------

_DATASET_SHEET = re.compile(r"^(dataset|datasæt)\s*(\((\d+)\))?$", re.IGNORECASE)
_STRUCTURE_SHEET = re.compile(r"^(structure|struktur)$", re.IGNORECASE)
_LABELS_SHEET = re.compile(r"^(labels|label|etiketter)$", re.IGNORECASE)


def read_export_workbook(path: Path) -> SurveyExport:
    """Read a SurveyXact .xlsx workbook with the sheets Dataset (or Dataset(1), Dataset(2), ...),
    Structure and Labels."""
    workbook = open_workbook(path)
    try:
        names = list(workbook.sheetnames)
        datasets = sorted(
            (name for name in names if _DATASET_SHEET.match(name.strip())),
            key=lambda name: int(_DATASET_SHEET.match(name.strip()).group(3) or 0),
        )
        structure = [name for name in names if _STRUCTURE_SHEET.match(name.strip())]
        labels = [name for name in names if _LABELS_SHEET.match(name.strip())]
        missing = [
            wanted
            for wanted, found in (("Dataset", datasets), ("Structure", structure), ("Labels", labels))
            if not found
        ]
        if missing:
            raise LandingFileError(
                path,
                f"lacks the sheet{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(it has: {', '.join(names)}); a SurveyXact workbook holds Dataset, Structure and Labels",
            )
        parts = [_workbook_sheet(path, workbook[name], header=True) for name in datasets]
        structure_sheet = _workbook_sheet(path, workbook[structure[0]], header=True)
        labels_sheet = _workbook_sheet(path, workbook[labels[0]], header=False)
    except LandingFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        raise LandingFileError(path, "is not a readable .xlsx workbook (damaged or cut short)") from None
    finally:
        workbook.close()
    dataset = _join_dataset_parts(path, parts)
    split = f", dataset split over {len(parts)} sheets" if len(parts) > 1 else ""
    return build_export(
        "surveyxact-xlsx", f"SurveyXact workbook{split}", dataset, structure_sheet, labels_sheet, [path]
    )


def cell_text(value: object) -> str | None:
    """A workbook cell in the canonical text of a survey value (numbers without trailing zeros, ISO dates)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_numbers(np.array([value]))[0]
    if isinstance(value, datetime):
        return value.strftime(TIMESTAMP_FORMAT)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    text = str(value).strip()
    return text or None


def _workbook_sheet(path: Path, worksheet, *, header: bool) -> Sheet:
    rows: list[tuple] = []
    numbers: list[int] = []
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if any(cell is not None and str(cell).strip() for cell in row):
            rows.append(row)
            numbers.append(number)
    title = worksheet.title
    if header:
        if not rows:
            raise LandingFileError(path, "is empty: the sheet has no header row", sheet=title)
        names = [cell_text(cell) or "" for cell in rows[0]]
        while names and not names[-1]:
            names.pop()
        body, numbers = rows[1:], numbers[1:]
    else:
        names, body = None, rows
    width = len(names) if names is not None else max((len(row) for row in body), default=0)
    columns = {f"c{index}": [] for index in range(width)}
    for row in body:
        for index in range(width):
            columns[f"c{index}"].append(cell_text(row[index]) if index < len(row) else None)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return Sheet(path, title, names, table, np.array(numbers, dtype=np.int64), [], "")


def _join_dataset_parts(path: Path, parts: list[Sheet]) -> Sheet:
    """Join Dataset(1), Dataset(2), ... column-wise; a column repeated in several parts must agree."""
    first = parts[0]
    header, arrays = list(first.header or []), list(first.table.columns)
    for part in parts[1:]:
        if part.table.num_rows != first.table.num_rows:
            raise LandingFileError(
                path,
                f"its dataset sheets disagree: {part.name} has {part.table.num_rows} rows and {first.name} "
                f"{first.table.num_rows}; a split dataset must hold the same respondents in every part",
                sheet=part.name,
            )
        for name, column in zip(part.header or [], part.table.columns, strict=False):
            if name in header:
                if not column.equals(arrays[header.index(name)]):
                    raise LandingFileError(
                        path,
                        f"column {name} appears in two dataset sheets with different values; "
                        "the parts are not one export",
                        sheet=part.name,
                    )
                continue
            header.append(name)
            arrays.append(column)
    table = pa.table({f"c{index}": column for index, column in enumerate(arrays)})
    return Sheet(path, first.name, header, table, first.rows, [], "")


# --- one export from its three tables ----------------------------------------------------------------


def build_export(
    format_name: str, shape: str, dataset: Sheet, structure: Sheet, labels: Sheet, files: list[Path]
) -> SurveyExport:
    """The shape-neutral export from SurveyXact's dataset, structure and labels tables."""
    rejects = [
        _bad_row(sheet, row, expected, found)
        for sheet in (dataset, structure, labels)
        for row, expected, found in sheet.bad_rows
    ]
    if [cell.strip() for cell in (structure.header or [])[:7]] != STRUCTURE_HEADER:
        raise LandingFileError(
            structure.file,
            f"row 1 is not a SurveyXact structure header ({', '.join(STRUCTURE_HEADER)})",
            row=1,
            sheet=structure.name,
        )
    if structure.table.num_rows == 0:
        raise LandingFileError(structure.file, "has a header but no variables", sheet=structure.name)
    variables = _variables(structure)
    header = [name.strip() for name in dataset.header or []]
    if not header or not any(header):
        raise LandingFileError(dataset.file, "has no header row naming the variables", row=1, sheet=dataset.name)
    if dataset.table.num_rows == 0:
        raise LandingFileError(
            dataset.file, "has a header but no data rows: the export holds no respondents", sheet=dataset.name
        )
    n_structure = len(variables)
    variables, unknown = _match_dataset_columns(header, variables)
    if unknown:
        raise LandingFileError(
            dataset.file,
            f"its columns do not match structure.csv: {len(unknown)} of {len(header)} dataset columns "
            f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}) are not variables of the structure; "
            "dataset and structure come from different exports",
            row=1,
            sheet=dataset.name,
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise LandingFileError(
            dataset.file, f"names the variables {', '.join(duplicated)} twice in its header", row=1, sheet=dataset.name
        )
    notes = []
    if not unknown and len(variables) < n_structure:
        notes.append(f"{n_structure - len(variables)} variables of the structure are not in the dataset (not exported)")
    label_frame, label_rejects = _labels(labels)
    rejects += label_rejects
    labelled = set(label_frame["variable_name"])
    variables["value_kind"] = [
        _value_kind(row.question_type, row.sub_type, row.variable_name in labelled) for row in variables.itertuples()
    ]
    data = pa.table({name: dataset.table.column(index) for index, name in enumerate(header)})
    survey_values = label_frame.loc[label_frame["variable_name"] == "survey"]
    survey_ids = data.column("survey").drop_null().unique().to_pylist() if "survey" in header else []
    survey_id = survey_ids[0] if len(survey_ids) == 1 else None
    title = survey_values.loc[survey_values["value"] == survey_id, "label"].head(1).tolist() if survey_id else []
    return SurveyExport(
        format=format_name,
        shape=shape,
        data_file=dataset.file,
        data=data,
        rows=dataset.rows,
        variables=variables,
        labels=label_frame,
        conventions=SURVEYXACT,
        files=files,
        data_sheet=dataset.name,
        title=title[0] if title else None,
        survey_id=survey_id,
        rejects=rejects,
        notes=notes,
    )


def _bad_row(sheet: Sheet, row: int, expected: int, found: int) -> Reject:
    return Reject(SOURCE, str(sheet.file), row, None, f"has {found} fields; the header has {expected}", sheet.name)


def _variables(structure: Sheet) -> pd.DataFrame:
    """The structure as a codebook: one row per variable, with its label ("stem - item" for a battery,
    "question - choice" for a multiple-choice variable)."""
    frame = pd.DataFrame(
        {
            "question_name": structure.column(0),
            "variable_name": structure.column(1),
            "question_type": structure.column(2),
            "sub_type": structure.column(3),
            "question_text": structure.column(4),
            "choice_value": structure.column(5),
            "item_text": structure.column(6),
            "source_row": structure.rows,
        }
    )
    frame = frame.loc[frame["variable_name"].notna()].reset_index(drop=True)
    frame["source_file"] = str(structure.file)
    sizes = frame.groupby("question_name", dropna=False)["variable_name"].transform("size")
    labels, stems, items = [], [], []
    stems_by_question = {
        question: _battery_stem(group["question_text"].dropna().tolist())
        for question, group in frame.groupby("question_name", dropna=False)
    }
    for row, size in zip(frame.itertuples(), sizes, strict=True):
        text = row.question_text or ""
        if row.choice_value is not None:
            labels.append(f"{text} - {row.item_text}" if row.item_text else text)
            stems.append(text)
            items.append(row.item_text)
            continue
        stem = stems_by_question.get(row.question_name) if size > 1 else None
        labels.append(text or None)
        if stem and text.startswith(stem + " - "):
            stems.append(stem)
            items.append(text[len(stem) + 3 :])
        else:
            stems.append(text or None)
            items.append(None)
    frame["variable_label"], frame["question_text"], frame["item_text"] = labels, stems, items
    frame["is_closed"] = frame["question_type"].fillna("").str.casefold().eq("closed")
    frame["value_kind"] = None
    frame["position"] = None
    return frame


def _battery_stem(texts: list[str]) -> str | None:
    """The stem shared by a battery's item texts ("stem - item"), if they share one."""
    if len(texts) < 2:
        return None
    prefix = texts[0]
    for text in texts[1:]:
        while not text.startswith(prefix):
            prefix = prefix[:-1]
    cut = prefix.rfind(" - ")
    return prefix[:cut] if cut > 0 else None


def _match_dataset_columns(header: list[str], structure: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One codebook row per dataset column, in dataset order; and the columns the structure lacks."""
    by_variable = {name: index for index, name in enumerate(structure["variable_name"])}
    single = structure.groupby("question_name")["variable_name"].transform("size").eq(1)
    by_question = {name: index for index, name in enumerate(structure["question_name"]) if single.iloc[index] and name}
    positions, unknown = [], []
    for name in header:
        index = by_variable.get(name, by_question.get(name))
        if index is None:
            unknown.append(name)
        positions.append(index)
    if unknown:
        return structure, unknown
    frame = structure.iloc[positions].reset_index(drop=True)
    frame["variable_name"] = header  # the dataset's own spelling of the name
    frame["position"] = range(1, len(header) + 1)
    return frame[VARIABLE_COLUMNS], []


def _labels(labels: Sheet) -> tuple[pd.DataFrame, list[Reject]]:
    frame = pd.DataFrame(
        {
            "variable_name": labels.column(0),
            "value": labels.column(1),
            "label": labels.column(2),
            "source_row": labels.rows,
        }
    )
    rejects = []
    incomplete = frame["variable_name"].isna() | frame["value"].isna()
    for row in frame.loc[incomplete, "source_row"]:
        rejects.append(
            Reject(SOURCE, str(labels.file), int(row), None, "a label row needs a variable and a value", labels.name)
        )
    frame = frame.loc[~incomplete].copy()
    numbers = pd.to_numeric(frame["value"].str.replace(",", ".", regex=False), errors="coerce")
    frame["value"] = np.where(numbers.notna(), format_numbers(numbers.to_numpy(dtype=float)), frame["value"])
    frame["sort_order"] = frame.groupby("variable_name").cumcount() + 1
    frame["is_declared_missing"] = False
    frame["source_file"] = str(labels.file)
    return frame[LABEL_COLUMNS].reset_index(drop=True), rejects


def _value_kind(question_type: str | None, sub_type: str | None, has_labels: bool) -> str:
    if has_labels or (question_type or "").casefold() == "closed":
        return CODE
    sub = (sub_type or "").casefold()
    if sub in NUMERIC_SUB_TYPES:
        return NUMBER
    if sub == "date":
        return DATE
    return TEXT
