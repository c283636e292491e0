"""Read a SurveyXact export (dataset, structure and labels) into raw survey tables.

SurveyXact writes UTF-16 with a byte-order mark, tab-separated; variable names are cut to eight
characters; the structure file ends every line with an empty column; the labels file has no header.
Names and e-mails are pseudonymised here, and free-text answers are kept apart (raw only), so nothing
identifying reaches the tables that dbt reads.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from flows.sources.common import (
    LandingFileError,
    Pseudonymise,
    RawTable,
    Reject,
    RowError,
    Source,
    SourceBatch,
    parse_int,
    parse_timestamp,
    require_file,
)

SOURCE = "survey"
EXPORT_FILES = ("dataset.csv", "structure.csv", "labels.csv")

# Variables of every SurveyXact export that are not questionnaire items.
SYSTEM_VARIABLES = {
    "x_exclude",
    "survey",
    "responde",
    "fake",
    "organiza",
    "created",
    "modified",
    "closetim",
    "starttim",
    "difftime",
    "response",
    "numberof",
    "importgr",
    "distribu",
    "email",
    "digitald",
    "digit_1",
    "name",
    "lang",
    "kommune",
    "sektor",
}
REQUIRED_VARIABLES = ("responde", "kommune", "sektor", "email", "name", "created")
STATUS_VARIABLES = tuple(f"stato_{code}" for code in range(1, 6))
IDENTIFIER_VARIABLES = {"email": "email", "name": "name"}


def _read_utf16_rows(path: Path) -> list[list[str]]:
    require_file(path, f"the export's {path.name}")
    raw = path.read_bytes()
    if not raw.startswith(b"\xff\xfe"):
        raise LandingFileError(
            path,
            "is not a SurveyXact export file (expected UTF-16 with a byte-order mark); "
            "export again from SurveyXact as 'Dataset (tab-separated, Unicode)'",
        )
    try:
        text = raw.decode("utf-16")
    except UnicodeDecodeError as error:
        raise LandingFileError(
            path, f"cannot be decoded as UTF-16 at byte {error.start}: the file is damaged or cut short"
        ) from None
    return [line.rstrip("\r").split("\t") for line in text.split("\n") if line.strip("\r")]


def _status_code(values: dict[str, str]) -> int:
    marked = [
        code for code, variable in enumerate(STATUS_VARIABLES, start=1) if values.get(variable, "").strip() == "1"
    ]
    if len(marked) != 1:
        raise RowError("stato_1..stato_5", f"marks {len(marked)} overall statuses; exactly one is expected")
    return marked[0]


def read_surveyxact_export(directory: Path, pseudonymise: Pseudonymise) -> SourceBatch:
    """Read one export folder. Returns raw tables survey_respondents, survey_answers,
    survey_open_answers, survey_variables and survey_value_labels, plus rejected rows."""
    export_id = directory.name
    dataset_path, structure_path, labels_path = (directory / name for name in EXPORT_FILES)
    batch = SourceBatch(source=SOURCE, files=[dataset_path, structure_path, labels_path])

    structure = _read_utf16_rows(structure_path)
    header = structure[0]
    if header[:7] != [
        "questionName",
        "variableName",
        "questionType",
        "subType",
        "questionText",
        "choiceValue",
        "choiceText",
    ]:
        raise LandingFileError(structure_path, "line 1 is not a SurveyXact structure header", row=1)
    variables = pd.DataFrame(
        [
            {
                "export_id": export_id,
                "question_name": row[0],
                "variable_name": row[1],
                "question_type": row[2],
                "sub_type": row[3],
                "question_text": row[4],
                "choice_value": int(row[5]) if row[5].strip() else None,
                "choice_text": row[6] or None,
                "source_file": str(structure_path),
                "source_row": line_number,
            }
            for line_number, row in enumerate(structure[1:], start=2)
        ]
    )
    variables["choice_value"] = variables["choice_value"].astype("Int64")
    kinds = {
        row["variable_name"]: (row["question_name"], row["question_type"], row["sub_type"])
        for row in variables.to_dict("records")
    }

    label_rows = []
    for line_number, row in enumerate(_read_utf16_rows(labels_path), start=1):
        if len(row) != 3:
            batch.rejects.append(
                Reject(SOURCE, str(labels_path), line_number, None, f"has {len(row)} fields; a label line has 3")
            )
            continue
        variable, value, label = (field.strip().strip('"') for field in row)
        try:
            label_rows.append(
                {
                    "export_id": export_id,
                    "variable_name": variable,
                    "value": parse_int("value", value, required=True),
                    "label": label,
                    "source_file": str(labels_path),
                    "source_row": line_number,
                }
            )
        except RowError as error:
            batch.rejects.append(Reject(SOURCE, str(labels_path), line_number, error.column, error.reason))
    batch.tables["survey_value_labels"] = pd.DataFrame(
        label_rows, columns=["export_id", "variable_name", "value", "label", "source_file", "source_row"]
    )

    dataset = _read_utf16_rows(dataset_path)
    columns = dataset[0]
    absent = [name for name in (*REQUIRED_VARIABLES, *STATUS_VARIABLES) if name not in columns]
    if absent:
        raise LandingFileError(
            dataset_path,
            f"line 1 lacks the variables {', '.join(absent)}; the export must include background and status variables",
            row=1,
        )
    unknown = [name for name in columns if name not in kinds]
    if unknown:
        raise LandingFileError(
            dataset_path,
            f"variables {', '.join(unknown)} are not in structure.csv; "
            "dataset and structure come from different exports",
            row=1,
        )
    item_variables = [
        name
        for name in columns
        if name not in SYSTEM_VARIABLES and not kinds[name][0].startswith("stat") and kinds[name][1] == "Closed"
    ]
    open_variables = [
        name
        for name in columns
        if name not in SYSTEM_VARIABLES and kinds[name][1] == "Open" and kinds[name][2] == "String"
    ]
    not_carried = [
        name
        for name in columns
        if name not in SYSTEM_VARIABLES
        and name not in item_variables
        and name not in open_variables
        and not name.startswith("stat")
    ]
    if not_carried:
        batch.notes.append(f"{dataset_path}: variables not carried into raw tables: {', '.join(not_carried)}")

    respondents, answers, open_answers = [], [], []
    for line_number, row in enumerate(dataset[1:], start=2):
        if len(row) != len(columns):
            batch.rejects.append(
                Reject(
                    SOURCE,
                    str(dataset_path),
                    line_number,
                    None,
                    f"has {len(row)} fields; the header has {len(columns)}",
                )
            )
            continue
        values = dict(zip(columns, row, strict=True))
        try:
            respondent_id = parse_int("responde", values["responde"], required=True)
            respondent = {
                "export_id": export_id,
                "respondent_id": respondent_id,
                "municipality_code": parse_int("kommune", values["kommune"], required=True),
                "sector_area_code": parse_int("sektor", values["sektor"], required=True),
                "status_code": _status_code(values),
                "created_at": parse_timestamp("created", values["created"]),
                "started_at": parse_timestamp("starttim", values.get("starttim", "")),
                "closed_at": parse_timestamp("closetim", values.get("closetim", "")),
                "modified_at": parse_timestamp("modified", values.get("modified", "")),
                "respondent_name_pseudonym": pseudonymise(IDENTIFIER_VARIABLES["name"], values["name"]),
                "email_pseudonym": pseudonymise(IDENTIFIER_VARIABLES["email"], values["email"]),
                "source_file": str(dataset_path),
                "source_row": line_number,
            }
            row_answers = [
                {
                    "export_id": export_id,
                    "respondent_id": respondent_id,
                    "variable_name": name,
                    "answer_value": parse_int(name, values[name]),
                    "source_file": str(dataset_path),
                    "source_row": line_number,
                }
                for name in item_variables
            ]
        except RowError as error:
            batch.rejects.append(Reject(SOURCE, str(dataset_path), line_number, error.column, error.reason))
            continue
        respondents.append(respondent)
        answers.extend(row_answers)
        open_answers.extend(
            {
                "export_id": export_id,
                "respondent_id": respondent_id,
                "variable_name": name,
                "answer_text": values[name],
                "source_file": str(dataset_path),
                "source_row": line_number,
            }
            for name in open_variables
            if values[name].strip()
        )

    batch.tables["survey_respondents"] = pd.DataFrame(
        respondents,
        columns=[
            "export_id",
            "respondent_id",
            "municipality_code",
            "sector_area_code",
            "status_code",
            "created_at",
            "started_at",
            "closed_at",
            "modified_at",
            "respondent_name_pseudonym",
            "email_pseudonym",
            "source_file",
            "source_row",
        ],
    )
    answer_frame = pd.DataFrame(
        answers, columns=["export_id", "respondent_id", "variable_name", "answer_value", "source_file", "source_row"]
    )
    answer_frame["answer_value"] = answer_frame["answer_value"].astype("Int64")
    batch.tables["survey_answers"] = answer_frame
    batch.tables["survey_open_answers"] = pd.DataFrame(
        open_answers,
        columns=["export_id", "respondent_id", "variable_name", "answer_text", "source_file", "source_row"],
    )
    batch.tables["survey_variables"] = variables
    return batch


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """Each folder under survey/ is one SurveyXact export (dataset.csv, structure.csv, labels.csv)."""
    deliveries, findings = [], []
    for entry in real_entries(folder):
        path = Path(entry.path)
        if not entry.is_dir():
            findings += not_recognised(
                path, inventory, "is not a survey export: a SurveyXact export is a folder of its three CSV files"
            )
            continue
        deliveries.append(
            Delivery(
                SOURCE, inventory.relative(path), path, tuple(path / name for name in EXPORT_FILES), "surveyxact-csv"
            )
        )
        for inner in real_entries(path):
            if inner.name not in EXPORT_FILES or inner.is_dir():
                findings += not_recognised(Path(inner.path), inventory, "is not one of a SurveyXact export's files")
    return deliveries, findings


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    return read_surveyxact_export(delivery.path, pseudonymise)


SURVEY = Source(
    name=SOURCE,
    folder="survey",
    description="Survey exports: the questionnaire to the heads of sector areas",
    discover=discover,
    read=read,
    tables=(
        RawTable(
            "survey_respondents",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "bigint"),
                ("municipality_code", "integer"),
                ("sector_area_code", "integer"),
                ("status_code", "integer"),
                ("created_at", "timestamp"),
                ("started_at", "timestamp"),
                ("closed_at", "timestamp"),
                ("modified_at", "timestamp"),
                ("respondent_name_pseudonym", "varchar"),
                ("email_pseudonym", "varchar"),
            ),
        ),
        RawTable(
            "survey_answers",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "bigint"),
                ("variable_name", "varchar"),
                ("answer_value", "integer"),
            ),
        ),
        RawTable(
            "survey_open_answers",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "bigint"),
                ("variable_name", "varchar"),
                ("answer_text", "varchar"),
            ),
            raw_only=True,
        ),
        RawTable(
            "survey_variables",
            (
                ("export_id", "varchar not null"),
                ("question_name", "varchar"),
                ("variable_name", "varchar"),
                ("question_type", "varchar"),
                ("sub_type", "varchar"),
                ("question_text", "varchar"),
                ("choice_value", "integer"),
                ("choice_text", "varchar"),
            ),
        ),
        RawTable(
            "survey_value_labels",
            (
                ("export_id", "varchar not null"),
                ("variable_name", "varchar"),
                ("value", "integer"),
                ("label", "varchar"),
            ),
        ),
    ),
    suites=("raw_survey_answers", "raw_survey_respondents"),
)
