"""Survey exports as they really arrive, in every shape, for any questionnaire.

A survey export is dropped into `data_lake/landing/survey/`:
- as a folder holding SurveyXact's three CSV files (dataset, structure, labels), in any separator and
  encoding SurveyXact offers;
- or as a single file: a SurveyXact `.xlsx` workbook, an SPSS `.sav`, `.zsav` or `.por` file, a Stata
  `.dta` file, or a Qualtrics `.csv` or `.tsv`.

Each shape has its reader (`surveyxact`, `qualtrics`, `readstat` for SPSS and Stata), all producing the
same shape-neutral export; `to_raw` turns it into the raw tables declared here. Which export is which
questionnaire, and where its background variables are, is data: `dbt_project/seeds/survey_exports.csv`;
which exports count for a wave is decided across them, after ingest (`waves`).
"""

from __future__ import annotations

from pathlib import Path

from samskab.ingest.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from samskab.ingest.sources.common import (
    DROPPED,
    KEPT,
    PSEUDONYMISED,
    RAW_ONLY,
    SCRUBBED,
    PersonalData,
    Pseudonymise,
    RawTable,
    Source,
    SourceBatch,
)
from samskab.ingest.sources.recognise import belongs_in
from samskab.ingest.sources.survey import waves
from samskab.ingest.sources.survey.qualtrics import read_qualtrics_csv
from samskab.ingest.sources.survey.readstat import read_statistical_file
from samskab.ingest.sources.survey.surveyxact import EXPORT_FILES, read_export_folder, read_export_workbook
from samskab.ingest.sources.survey.to_raw import survey_batch

SOURCE = "survey"
FOLDER = "survey"
SINGLE_FILE_READERS = {
    ".xlsx": ("surveyxact-xlsx", read_export_workbook),
    ".sav": ("spss-sav", read_statistical_file),
    ".zsav": ("spss-sav", read_statistical_file),
    ".por": ("spss-por", read_statistical_file),
    ".dta": ("stata-dta", read_statistical_file),
    ".csv": ("qualtrics-csv", read_qualtrics_csv),
    ".tsv": ("qualtrics-csv", read_qualtrics_csv),  # Qualtrics' "TSV" download: UTF-16, tab-separated
}
# Files people drop that are almost a delivery: say what to do with them.
ALMOST = {
    ".zip": "is a zip archive: unpack it into a folder of its own under survey/ (SurveyXact downloads come zipped)",
    ".xls": "is an old-style Excel workbook: open it in Excel and save it as .xlsx",
    ".txt": "is a text file: a SurveyXact export is a folder of dataset.csv, structure.csv and labels.csv",
}
FOLDER_FORMAT = "surveyxact-csv"


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """A folder under survey/ is a SurveyXact CSV export; a .xlsx, .sav, .zsav, .por, .dta, .csv or .tsv file is an
    export of its own."""
    deliveries, findings = [], []
    for entry in real_entries(folder):
        path = Path(entry.path)
        if entry.is_dir():
            present = {inner.name.casefold(): Path(inner.path) for inner in real_entries(path)}
            if not set(present) & set(EXPORT_FILES):
                # A folder of folders (exports sorted by year, say), or an empty one: no export here.
                reason = (
                    "is not part of a SurveyXact export: exports go directly under survey/, one folder each "
                    "holding dataset.csv, structure.csv and labels.csv (or one .xlsx, .sav, .dta or .csv file)"
                )
                findings += not_recognised(path, inventory, reason)
                continue
            files = tuple(present.get(name, path / name) for name in EXPORT_FILES)
            deliveries.append(Delivery(SOURCE, inventory.relative(path), path, files, FOLDER_FORMAT))
            for inner in real_entries(path):
                if inner.name.casefold() not in EXPORT_FILES or inner.is_dir():
                    reason = "is not one of a SurveyXact export's files (dataset.csv, structure.csv, labels.csv)"
                    findings += not_recognised(Path(inner.path), inventory, reason)
        elif path.suffix.casefold() in SINGLE_FILE_READERS and _is_survey_file(path):
            format_name, _ = SINGLE_FILE_READERS[path.suffix.casefold()]
            deliveries.append(Delivery(SOURCE, inventory.relative(path), path, (path,), format_name))
        else:
            reason = ALMOST.get(
                path.suffix.casefold(),
                "is not a survey export: a SurveyXact export is a folder of its three CSV files, "
                "or a single .xlsx, SPSS .sav/.zsav/.por, Stata .dta, or Qualtrics .csv/.tsv file",
            )
            findings += not_recognised(path, inventory, reason)
    return deliveries, findings


def _is_survey_file(path: Path) -> bool:
    """A single file is read as an export unless it plainly is another source's (a Statbank table, a
    classification download, the case register), which is then named with where it belongs."""
    elsewhere = belongs_in(path)
    return elsewhere is None or elsewhere.folder == FOLDER


def export_id_of(delivery: Delivery) -> str:
    """The export's name in raw: its folder or file name under survey/."""
    return delivery.name.removeprefix(f"{FOLDER}/")


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    if delivery.format == FOLDER_FORMAT:
        export = read_export_folder(delivery.path)
    else:
        _, reader = SINGLE_FILE_READERS[delivery.path.suffix.casefold()]
        export = reader(delivery.path)
    return survey_batch(export, export_id_of(delivery), pseudonymise)


SURVEY = Source(
    name=SOURCE,
    folder=FOLDER,
    description="Survey exports (SurveyXact CSV or workbook, SPSS, Stata, Qualtrics CSV) of any questionnaire",
    discover=discover,
    read=read,
    tables=(
        RawTable(
            "survey_exports",
            (
                ("export_id", "varchar not null"),
                ("format", "varchar"),
                ("shape", "varchar"),
                ("title", "varchar"),
                ("survey_id", "varchar"),
                ("wave_id", "varchar"),
                ("questionnaire", "varchar"),
                ("mapping_entry", "varchar"),
                ("matched_by", "varchar"),
                ("respondent_id_rule", "varchar"),
                ("n_respondents", "bigint"),
                ("n_variables", "integer"),
                ("n_answers", "bigint"),
                ("status_rule", "varchar"),
            ),
        ),
        RawTable(
            "survey_respondents",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "varchar"),
                ("wave_id", "varchar"),
                ("municipality_code", "integer"),
                ("area_level", "varchar"),
                ("sector_area_code", "integer"),
                ("status_code", "integer"),
                ("status_rule", "varchar"),
                ("created_at", "timestamp"),
                ("started_at", "timestamp"),
                ("closed_at", "timestamp"),
                ("modified_at", "timestamp"),
                ("respondent_pseudonym", "varchar"),
                ("respondent_name_pseudonym", "varchar"),
                ("email_pseudonym", "varchar"),
            ),
        ),
        RawTable(
            "survey_answers",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "varchar"),
                ("variable_name", "varchar"),
                ("answer_value", "varchar"),
                ("answer_number", "double"),
            ),
        ),
        RawTable(
            "survey_open_answers",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "varchar"),
                ("variable_name", "varchar"),
                ("answer_text", "varchar"),
                ("n_redactions", "integer"),
            ),
            raw_only=True,
        ),
        RawTable(
            "survey_variables",
            (
                ("export_id", "varchar not null"),
                ("position", "integer"),
                ("variable_name", "varchar"),
                ("variable_label", "varchar"),
                ("question_name", "varchar"),
                ("question_text", "varchar"),
                ("item_text", "varchar"),
                ("question_type", "varchar"),
                ("sub_type", "varchar"),
                ("choice_value", "varchar"),
                ("value_kind", "varchar"),
                ("role", "varchar"),
                ("is_closed", "boolean"),
            ),
        ),
        RawTable(
            "survey_value_labels",
            (
                ("export_id", "varchar not null"),
                ("variable_name", "varchar"),
                ("value", "varchar"),
                ("label", "varchar"),
                ("sort_order", "integer"),
                ("is_dont_know", "boolean"),
                ("is_not_applicable", "boolean"),
                ("is_no_answer", "boolean"),
                ("is_declared_missing", "boolean"),
            ),
        ),
        RawTable(
            "survey_wave_holds",
            (
                ("export_id", "varchar not null"),
                ("wave_id", "varchar"),
                ("reason", "varchar"),
            ),
        ),
        RawTable(
            "survey_unresolved_municipalities",
            (
                ("export_id", "varchar not null"),
                ("respondent_id", "varchar"),
                ("variable_name", "varchar"),
                ("value_text", "varchar"),
            ),
            raw_only=True,
        ),
    ),
    suites=("raw_survey_answers", "raw_survey_respondents"),
    published_lineage=("survey_exports", "survey_wave_holds"),
    review=waves.review,
    personal_data=(
        PersonalData(
            "the respondent's name (name columns of the export)",
            PSEUDONYMISED,
            ("survey_respondents.respondent_name_pseudonym",),
        ),
        PersonalData("the respondent's e-mail", PSEUDONYMISED, ("survey_respondents.email_pseudonym",)),
        PersonalData(
            "the respondent's record (the survey's id and the export's respondent id, keyed together)",
            PSEUDONYMISED,
            ("survey_respondents.respondent_pseudonym",),
            "respondent_pseudonym in survey_weights, survey_answers_labelled, collaborations, survey_resubmissions",
        ),
        PersonalData(
            "the export's respondent id (the key of the respondent's rows in raw)",
            RAW_ONLY,
            (
                "survey_respondents.respondent_id",
                "survey_answers.respondent_id",
                "survey_open_answers.respondent_id",
                "survey_unresolved_municipalities.respondent_id",
            ),
        ),
        PersonalData("open (free-text) answers", SCRUBBED, ("survey_open_answers.answer_text",)),
        PersonalData(
            "a municipality as typed that names no municipality with certainty",
            RAW_ONLY,
            ("survey_unresolved_municipalities.value_text",),
        ),
        PersonalData(
            "the head's municipality, sector area and answers",
            KEPT,
            (
                "survey_respondents.municipality_code",
                "survey_respondents.sector_area_code",
                "survey_answers.answer_value",
            ),
            "with the respondent's pseudonym in survey_answers_labelled; as shares elsewhere",
        ),
        PersonalData(
            "when the questionnaire was opened, answered and closed",
            KEPT,
            (
                "survey_respondents.created_at",
                "survey_respondents.started_at",
                "survey_respondents.closed_at",
                "survey_respondents.modified_at",
            ),
            "record_time in survey_resubmissions",
        ),
        PersonalData("IP address and location (Qualtrics exports)", DROPPED),
    ),
    reading_seeds=(
        "survey_exports",
        "special_answer_labels",
        "municipalities",
        "municipality_name_variants",
        "other_areas",
    ),
)
