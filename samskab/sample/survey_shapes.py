"""One generated survey export, written in every shape researchers receive exports in.

The embedded sample's questionnaire is generated once (`GeneratedExport`) and written here as
SurveyXact would write it (three CSV files in each separator and encoding it offers, or an .xlsx
workbook, its dataset optionally split over several sheets), as an SPSS .sav file (pyreadstat), or as a
Qualtrics CSV export (three header rows with JSON or dict-style ImportIds, or the legacy two-row form).
Tests use it to prove that every shape gives the same raw answers and codebook; `samskab sample
--survey-shape` lets a researcher try one.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Written here as SurveyXact writes it, not imported from the reader: the sample stands for the outside
# world, so a mistake in the reader's own header must not be copied into the files it is tested on.
STRUCTURE_HEADER = [
    "questionName",
    "variableName",
    "questionType",
    "subType",
    "questionText",
    "choiceValue",
    "choiceText",
]
DONT_KNOW_LABEL = "Ved ikke"


@dataclass
class GeneratedExport:
    """A SurveyXact export before it is written: variables, respondents' values (text) and value labels."""

    name: str
    title: str
    columns: list[dict[str, str]]  # question, variable, type, sub, text, choice_value, choice_text
    records: list[dict[str, str]]  # variable -> value as text ("" when blank)
    labels: list[tuple[str, str, str]]  # variable, value, label; in answer order

    @property
    def variables(self) -> list[str]:
        return [column["variable"] for column in self.columns]

    def rows(self) -> list[list[str]]:
        return [[record.get(variable, "") for variable in self.variables] for record in self.records]

    def structure_rows(self) -> list[list[str]]:
        return [
            [
                column["question"],
                column["variable"],
                column["type"],
                column["sub"],
                column["text"],
                column.get("choice_value", ""),
                column.get("choice_text", ""),
            ]
            for column in self.columns
        ]


# --- SurveyXact's three files ------------------------------------------------------------------------

ENCODINGS = {"utf-16": "UTF-16 with BOM", "utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}


def write_surveyxact_folder(export: GeneratedExport, folder: Path, delimiter: str, encoding: str) -> list[Path]:
    """dataset.csv, structure.csv and labels.csv as SurveyXact writes them in the given separator and
    encoding: the structure with its phantom empty column, the labels with quoted text and no header."""
    folder.mkdir(parents=True, exist_ok=True)
    dataset = _delimited([export.variables, *export.rows()], delimiter, "\n")
    structure = _delimited(
        [[*STRUCTURE_HEADER, ""], *[[*row, ""] for row in export.structure_rows()]], delimiter, "\r\n"
    )
    labels = "\r\n".join(
        delimiter.join([_quoted(variable), value, _quoted(label)]) for variable, value, label in export.labels
    )
    paths = [folder / "dataset.csv", folder / "structure.csv", folder / "labels.csv"]
    for path, text in zip(paths, (dataset, structure, labels + "\r\n"), strict=True):
        path.write_bytes(_encoded(text, encoding))
    return paths


def _delimited(rows: list[list[str]], delimiter: str, line_end: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue()


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-16":
        return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    return text.encode(encoding)


# --- the workbook ------------------------------------------------------------------------------------


def write_surveyxact_workbook(export: GeneratedExport, path: Path, split_after: int | None = None) -> Path:
    """An .xlsx workbook with the sheets Dataset, Structure and Labels. With `split_after`, the dataset
    is split over Dataset(1), Dataset(2), ... of that many columns each, every part after the first
    repeating the respondent id first, as a wide export splits."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    kinds = {column["variable"]: _kind(column) for column in export.columns}
    workbook = Workbook(write_only=True)
    variables = export.variables
    parts = [variables]
    if split_after:
        key = variables[variables.index("responde")] if "responde" in variables else variables[0]
        parts = [variables[:split_after]] + [
            [key, *variables[start : start + split_after]] for start in range(split_after, len(variables), split_after)
        ]
    for number, part in enumerate(parts, start=1):
        sheet = workbook.create_sheet("Dataset" if len(parts) == 1 else f"Dataset({number})")
        sheet.append(part)
        for record in export.records:
            sheet.append([_typed(record.get(variable, ""), kinds[variable]) for variable in part])
    structure = workbook.create_sheet("Structure")
    structure.append(STRUCTURE_HEADER)
    for row in export.structure_rows():
        structure.append([_typed(cell, "number") if index == 5 else (cell or None) for index, cell in enumerate(row)])
    labels = workbook.create_sheet("Labels")
    for variable, value, label in export.labels:
        labels.append([variable, _typed(value, "number"), label])
    workbook.save(path)
    return path


def _kind(column: dict[str, str]) -> str:
    if column["type"] == "Closed" or column["sub"] in ("Double", "Integer"):
        return "number"
    if column["sub"] == "Date":
        return "date"
    return "text"


def _typed(text: str, kind: str) -> object:
    """A cell as a spreadsheet holds it: a number, a date and time, or text."""
    if text == "":
        return None
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() else number
    if kind == "date":
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return text


# --- SPSS --------------------------------------------------------------------------------------------


def write_sav(export: GeneratedExport, path: Path) -> Path:
    """The export as SurveyXact's SPSS export: variable labels, value labels, "Ved ikke" declared
    user-missing, numbers as numbers, dates as SPSS date-times, text as strings."""
    import pandas as pd
    import pyreadstat

    path.parent.mkdir(parents=True, exist_ok=True)
    columns, labels, value_labels, missing = {}, [], {}, {}
    label_rows: dict[str, list[tuple[str, str]]] = {}
    for variable, value, label in export.labels:
        label_rows.setdefault(variable, []).append((value, label))
    for column in export.columns:
        variable, kind = column["variable"], _kind(column)
        values = [record.get(variable, "") for record in export.records]
        if kind == "number":
            columns[variable] = [float(value) if value else math.nan for value in values]
            if column["type"] == "Closed" and variable in label_rows:
                value_labels[variable] = {float(value): label for value, label in label_rows[variable]}
                dont_know = [float(value) for value, label in label_rows[variable] if label == DONT_KNOW_LABEL]
                if dont_know:
                    missing[variable] = dont_know
        elif kind == "date":
            columns[variable] = pd.to_datetime(pd.Series(values).replace("", None), format="%Y-%m-%d %H:%M:%S")
        else:
            columns[variable] = values
        choice = column.get("choice_text")
        labels.append(f"{column['text']} - {choice}" if choice else column["text"])
    frame = pd.DataFrame(columns)
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=labels,
        variable_value_labels=value_labels,
        missing_ranges=missing,
        file_label=export.title,
    )
    return path


# --- Qualtrics ---------------------------------------------------------------------------------------

QUALTRICS_META = [
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
LEGACY_META = ["ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress", "IPAddress", "Status"]


def write_qualtrics(export: GeneratedExport, path: Path, form: str = "json") -> Path:
    """The answering respondents (Qualtrics records responses, not invitations) as a Qualtrics CSV
    export with numeric values: `form` "json" or "dict" (three header rows) or "legacy" (two)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    questions = [
        column
        for column in export.columns
        if column["variable"] in ("kommune", "sektor") or column["question"][:1] == "q"
    ]
    texts = {column["variable"]: _qualtrics_text(column) for column in questions}
    answering = [record for record in export.records if record.get("stato_3") == "1" or record.get("stato_4") == "1"]
    rows = []
    for record in answering:
        first, _, last = record.get("name", "").partition(" ")
        finished = record.get("stato_4") == "1"
        meta = {
            "StartDate": record.get("starttim", ""),
            "EndDate": record.get("closetim", "") if finished else record.get("modified", ""),
            "Status": "0",
            "IPAddress": "192.0.2." + str(int(record["responde"]) % 250),
            "Progress": "100" if finished else "50",
            "Duration (in seconds)": str(round(float(record.get("difftime") or 0))),
            "Finished": "1" if finished else "0",
            "RecordedDate": record.get("closetim", "") if finished else record.get("modified", ""),
            "ResponseId": "R_" + record["responde"],
            "RecipientLastName": last,
            "RecipientFirstName": first,
            "RecipientEmail": record.get("email", ""),
            "ExternalReference": "",
            "LocationLatitude": "55.6761",
            "LocationLongitude": "12.5683",
            "DistributionChannel": "email",
            "UserLanguage": "DA",
        }
        rows.append([*meta.values(), *(record.get(column["variable"], "") for column in questions)])
    names = [name for name, _, _ in QUALTRICS_META] + [column["variable"] for column in questions]
    if form == "legacy":
        legacy = [*LEGACY_META, "StartDate", "EndDate", "Finished"]
        header = [f"V{index}" for index in range(1, len(legacy) + 1)] + [column["variable"] for column in questions]
        second = legacy + [texts[column["variable"]] for column in questions]
        body = [_legacy_row(row) for row in rows]
        text = _delimited([[*header, ""], [*second, ""], *[[*row, ""] for row in body]], ",", "\n")
    else:
        second = [label for _, label, _ in QUALTRICS_META] + [texts[column["variable"]] for column in questions]
        # Qualtrics marks a text-entry column's ImportId with _TEXT.
        ids = [import_id for _, _, import_id in QUALTRICS_META] + [
            f"QID{index}_TEXT" if column["sub"] == "String" else f"QID{index}"
            for index, column in enumerate(questions, start=1)
        ]
        third = [('{"ImportId":"%s"}' if form == "json" else "{'ImportId': '%s'}") % value for value in ids]
        text = _delimited([names, second, third, *rows], ",", "\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def _qualtrics_text(column: dict[str, str]) -> str:
    choice = column.get("choice_text")
    return f"{column['text']} - {choice}" if choice else column["text"]


def _legacy_row(row: list[str]) -> list[str]:
    meta = dict(zip([name for name, _, _ in QUALTRICS_META], row, strict=False))
    answers = row[len(QUALTRICS_META) :]
    name = f"{meta['RecipientFirstName']} {meta['RecipientLastName']}".strip()
    return [
        meta["ResponseId"],
        "Default Response Set",
        name,
        "",
        meta["RecipientEmail"],
        meta["IPAddress"],
        "0",
        meta["StartDate"],
        meta["EndDate"],
        meta["Finished"],
        *answers,
    ]


# --- every shape -------------------------------------------------------------------------------------

SHAPES = {
    "surveyxact-utf16": "SurveyXact CSV folder, tab-separated UTF-16 (SurveyXact's 'Unicode' export)",
    "surveyxact-semicolon-cp1252": "SurveyXact CSV folder, semicolon-separated Windows-1252 ('ANSI')",
    "surveyxact-comma-cp1252": "SurveyXact CSV folder, comma-separated Windows-1252 ('ANSI')",
    "surveyxact-semicolon-utf8-bom": "SurveyXact CSV folder, semicolon-separated UTF-8 with byte-order mark",
    "surveyxact-comma-utf8": "SurveyXact CSV folder, comma-separated UTF-8",
    "surveyxact-xlsx": "SurveyXact .xlsx workbook",
    "surveyxact-xlsx-split": "SurveyXact .xlsx workbook, dataset split over Dataset(1), Dataset(2), ...",
    "spss-sav": "SPSS .sav file",
    "qualtrics": "Qualtrics CSV, three header rows, JSON ImportIds",
    "qualtrics-dict": "Qualtrics CSV, three header rows, older dict-style ImportIds",
    "qualtrics-legacy": "Qualtrics CSV, legacy two-row header",
}
_FOLDERS = {
    "surveyxact-utf16": ("\t", "utf-16"),
    "surveyxact-semicolon-cp1252": (";", "cp1252"),
    "surveyxact-comma-cp1252": (",", "cp1252"),
    "surveyxact-semicolon-utf8-bom": (";", "utf-8-sig"),
    "surveyxact-comma-utf8": (",", "utf-8"),
}


def write_shape(export: GeneratedExport, survey_dir: Path, shape: str) -> list[Path]:
    """Write `export` into the landing zone's survey folder in `shape` (one of SHAPES)."""
    if shape in _FOLDERS:
        delimiter, encoding = _FOLDERS[shape]
        return write_surveyxact_folder(export, survey_dir / export.name, delimiter, encoding)
    if shape == "surveyxact-xlsx":
        return [write_surveyxact_workbook(export, survey_dir / f"{export.name}.xlsx")]
    if shape == "surveyxact-xlsx-split":
        return [write_surveyxact_workbook(export, survey_dir / f"{export.name}.xlsx", split_after=20)]
    if shape == "spss-sav":
        return [write_sav(export, survey_dir / f"{export.name}.sav")]
    if shape.startswith("qualtrics"):
        form = {"qualtrics": "json", "qualtrics-dict": "dict", "qualtrics-legacy": "legacy"}[shape]
        return [write_qualtrics(export, survey_dir / f"{export.name}.csv", form)]
    raise ValueError(f"Unknown survey shape {shape!r}; one of: {', '.join(SHAPES)}")
