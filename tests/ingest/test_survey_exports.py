"""Survey exports as they really arrive: every shape, any questionnaire, bad input refused or rejected
with file, row and reason, identifying data pseudonymised or scrubbed at ingest."""

from __future__ import annotations

import csv as csv_module
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from samskab.common.settings import get_settings, reset_settings
from samskab.ingest.landing import Delivery, Inventory
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.sources.common import LandingFileError
from samskab.ingest.sources.survey import discover, read
from samskab.sample.generate import generate_sample
from samskab.sample.survey_shapes import SHAPES
from tests.lakes import FIXTURES

FORMATS = FIXTURES / "formats"
PSEUDONYMISE = Pseudonymiser(b"s" * 32)
ONE_WAVE = ("2016",)  # these tests are about one export's shapes and faults: the sample's first wave alone
ANSWER_KEY = ["respondent_id", "variable_name", "answer_value", "answer_number"]
VARIABLE_KEY = ["variable_name", "position", "variable_label", "value_kind", "role"]
LABEL_KEY = ["variable_name", "value", "label", "sort_order", "is_dont_know", "is_not_applicable", "is_no_answer"]


def only_delivery(landing: Path) -> Delivery:
    deliveries, findings = discover(landing / "survey", Inventory(landing))
    assert findings == [] and len(deliveries) == 1
    return deliveries[0]


def read_shape(tmp_path_factory: pytest.TempPathFactory, shape: str):
    landing = tmp_path_factory.mktemp(shape)
    manifest = generate_sample(landing, survey_shape=shape, waves=ONE_WAVE)
    return read(only_delivery(landing), PSEUDONYMISE), manifest


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict:
    """The embedded sample's questionnaire written in every shape, each read back: shape -> (batch, manifest)."""
    return {shape: read_shape(tmp_path_factory, shape) for shape in SHAPES}


def answers(batch) -> pd.DataFrame:
    frame = batch.tables["survey_answers"].to_pandas()[ANSWER_KEY]
    return frame.sort_values(ANSWER_KEY[:2]).reset_index(drop=True)


def codebook(batch, columns_of_variables=VARIABLE_KEY):
    variables = batch.tables["survey_variables"][columns_of_variables].reset_index(drop=True)
    labels = batch.tables["survey_value_labels"][LABEL_KEY].reset_index(drop=True)
    return variables, labels


# --- one questionnaire, every shape ------------------------------------------------------------------

SURVEYXACT_AND_SPSS = [shape for shape in SHAPES if not shape.startswith("qualtrics")]


@pytest.mark.parametrize("shape", SURVEYXACT_AND_SPSS)
def test_every_surveyxact_shape_and_spss_give_identical_raw_answers_and_codebook(shapes, shape):
    reference, _ = shapes["surveyxact-utf16"]
    batch, _ = shapes[shape]
    assert batch.rejects == []
    pd.testing.assert_frame_equal(answers(batch), answers(reference))
    for mine, theirs in zip(codebook(batch), codebook(reference), strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    respondents = batch.tables["survey_respondents"].drop(columns=["source_file", "source_row", "export_id"])
    expected = reference.tables["survey_respondents"].drop(columns=["source_file", "source_row", "export_id"])
    pd.testing.assert_frame_equal(respondents.reset_index(drop=True), expected.reset_index(drop=True))


def test_the_reference_shape_holds_the_whole_questionnaire(shapes):
    batch, _ = shapes["surveyxact-utf16"]
    assert len(batch.tables["survey_respondents"]) == 98 * 8 + 2  # two heads answered twice
    variables = batch.tables["survey_variables"].set_index("variable_name")
    assert variables.loc["q3_2", "variable_label"].endswith(" - Frivillige sociale organisationer")
    assert variables.loc["q3_2", "item_text"] == "Frivillige sociale organisationer"
    assert variables.loc["q3_2", "question_text"] == "Hvor ofte samarbejder sektorområdet med følgende aktører?"
    assert variables.loc["q4_6", "choice_value"] == "6" and variables.loc["q4_6", "item_text"] == "Besparelser"
    assert variables.loc["q5", "role"] == "open_text" and variables.loc["email", "role"] == "identifier"
    labels = batch.tables["survey_value_labels"]
    dont_know = labels.loc[labels["is_dont_know"], ["variable_name", "value"]]
    assert set(dont_know["value"]) == {"9"} and {"q1", "q2", "q3_1"} <= set(dont_know["variable_name"])
    q3 = labels.loc[labels["variable_name"] == "q3_1"].sort_values("sort_order")
    assert q3["label"].tolist() == ["Altid eller ofte", "Nogle gange", "Sjældent", "Aldrig", "Ved ikke"]
    exported = batch.tables["survey_exports"].iloc[0]
    assert (exported["wave_id"], exported["format"]) == ("2016", "surveyxact-csv")
    assert exported["n_answers"] == batch.tables["survey_answers"].num_rows


@pytest.mark.parametrize("shape", ["qualtrics", "qualtrics-dict", "qualtrics-legacy"])
def test_the_qualtrics_export_of_the_questionnaire_gives_the_same_answers(shapes, shape):
    """Qualtrics records responses, not invitations: compare the answering heads' item answers, matched on
    municipality and sector area (Qualtrics gives its own response ids)."""

    def item_answers(batch):
        respondents = batch.tables["survey_respondents"]
        frame = batch.tables["survey_answers"].to_pandas().merge(respondents, on="respondent_id")
        frame = frame.loc[frame["variable_name"].str.match(r"^q\d") & frame["status_code"].isin([3, 4])]
        key = ["municipality_code", "sector_area_code", "status_code", "variable_name", "answer_value"]
        return frame[key].sort_values(key).reset_index(drop=True)

    reference, _ = shapes["surveyxact-utf16"]
    batch, _ = shapes[shape]
    assert batch.rejects == []
    pd.testing.assert_frame_equal(item_answers(batch), item_answers(reference))
    respondents = batch.tables["survey_respondents"]
    assert set(respondents["status_rule"]) == {
        "derived: completed if finished, partial if any answer, else distributed"
    }
    dropped = [note for note in batch.notes if note.startswith("identifying columns not stored")]
    assert dropped and "IPAddress" in dropped[0]
    assert ("LocationLatitude" in dropped[0]) == (shape != "qualtrics-legacy")  # legacy exports had no location
    assert respondents["email_pseudonym"].str.startswith("email_").all()
    assert respondents["respondent_name_pseudonym"].str.startswith("name_").all()


def distinct_cells(frame) -> set[str]:
    """Every column name and distinct cell of a table, as text (a name hides in a cell however often it recurs)."""
    frame = frame.to_pandas() if hasattr(frame, "to_pandas") else frame
    cells = {str(column) for column in frame.columns}
    for column in frame.columns:
        cells.update(str(value) for value in frame[column].drop_duplicates())
    return cells


def test_no_name_or_email_of_the_sample_is_in_any_table_a_reader_returns_but_the_raw_only_ones(shapes):
    for shape, (batch, manifest) in shapes.items():
        text = "\n".join(
            sorted(
                set().union(
                    *(distinct_cells(frame) for name, frame in batch.tables.items() if name != "survey_open_answers")
                )
            )
        )
        assert not [email for email in manifest.emails if email in text], shape
        assert not [name for name in manifest.names if name in text], shape


def test_open_answers_are_scrubbed_of_emails_and_the_respondents_own_name(shapes):
    batch, _ = shapes["surveyxact-utf16"]
    texts = batch.tables["survey_open_answers"]
    assert len(texts) > 50 and (texts["n_redactions"] >= 1).all()
    joined = "\n".join(texts["answer_text"])
    assert "[e-mail]" in joined and "@" not in joined


# --- a questionnaire the platform has never seen -----------------------------------------------------


def test_a_real_surveyxact_export_of_an_unknown_questionnaire_lands_whole_with_its_codebook(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FORMATS / "surveyxact", landing / "survey" / "gfe_applicants")
    batch = read(only_delivery(landing), PSEUDONYMISE)
    exported = batch.tables["survey_exports"].iloc[0]
    assert exported["wave_id"] is None and exported["title"] == "HF 4 - GfE Applicants/participants"
    assert exported["survey_id"] == "1325978" and exported["n_variables"] == 110
    assert any("no mapping entry" in note for note in batch.notes)
    respondents = batch.tables["survey_respondents"]
    assert respondents["respondent_id"].tolist() == ["825478429", "825478569", "825479792", "834262051"]
    assert respondents["status_code"].tolist() == [4, 2, 4, 2]
    assert respondents["municipality_code"].isna().all() and respondents["wave_id"].isna().all()
    variables = batch.tables["survey_variables"].set_index("variable_name")
    # SurveyXact cut two names to eight characters in the structure but not in the dataset.
    assert variables.loc["generated_id", "question_name"] == "generated_id"
    assert variables.loc["s_11_3", "variable_label"] == "SDG - 03 - good health and well-being"
    labels = batch.tables["survey_value_labels"]
    assert labels.loc[labels["is_no_answer"], "label"].unique().tolist() == ["keine Angabe"]
    # No answer lost or invented: every non-blank cell is an answer, an open answer, an identifier turned
    # pseudonym, or a rejected cell.
    dataset = pd.read_csv(FORMATS / "surveyxact" / "dataset.csv", sep="\t", encoding="utf-16", dtype=str)
    cells = dataset.drop(columns=["responde", "email", "name"]).fillna("")
    n_cells = int(cells.apply(lambda column: column.str.strip().ne("")).to_numpy().sum())
    n_open = len(batch.tables["survey_open_answers"])
    assert batch.tables["survey_answers"].num_rows + n_open + len(batch.rejects) == n_cells
    # A closed answer outside its labelled values (sex coded 0, labels 1 and 2) is rejected, cell by cell.
    assert [(reject.row, reject.column) for reject in batch.rejects] == [(2, "s_4"), (4, "s_4")]
    text = batch.tables["survey_open_answers"]["answer_text"].str.cat(sep="\n")
    assert "@" not in text and "Luise" not in text


def test_the_real_qualtrics_exports_in_both_header_forms_are_read(tmp_path):
    for name in ("sample.csv", "sample_legacy.csv"):
        landing = tmp_path / name / "landing"
        (landing / "survey").mkdir(parents=True)
        shutil.copy(FORMATS / "qualtrics" / name, landing / "survey" / name)
        batch = read(only_delivery(landing), PSEUDONYMISE)
        respondents = batch.tables["survey_respondents"]
        assert respondents["respondent_id"].tolist() == ["R_2YPOQ602ER1jkf1"], name
        assert respondents["status_code"].tolist() == [4], name
        assert respondents["started_at"].astype(str).tolist() == ["2017-07-18 08:28:09"], name
        found = dict(
            zip(
                *batch.tables["survey_answers"].select(["variable_name", "answer_value"]).to_pydict().values(),
                strict=True,
            )
        )
        assert found["Q1"] == "2", name
        assert batch.tables["survey_open_answers"]["answer_text"].tolist() == ["Hello World!"], name
        stored = "\n".join(
            str(table.to_pandas() if hasattr(table, "to_pandas") else table) for table in batch.tables.values()
        )
        assert "130.92.34.66" not in stored and "47.115" not in stored, name


# --- rules written once ------------------------------------------------------------------------------


def rewrite(path: Path, change) -> None:
    """Edit a generated UTF-16 SurveyXact file the way a broken export would look, keeping its encoding."""
    text = path.read_bytes().decode("utf-16")
    path.write_bytes("\ufeff".encode("utf-16-le") + change(text.lstrip("\ufeff")).encode("utf-16-le"))


def edit_rows(path: Path, change) -> None:
    def edit(text: str) -> str:
        lines = text.split("\n")
        header = lines[0].split("\t")
        rows = [line.split("\t") for line in lines[1:] if line]
        rows = change(header, rows)
        return "\n".join(["\t".join(header), *("\t".join(row) for row in rows)]) + "\n"

    rewrite(path, edit)


@pytest.fixture()
def sample_export(tmp_path) -> tuple[Path, Path]:
    landing = tmp_path / "landing"
    generate_sample(landing, waves=ONE_WAVE)
    return landing, landing / "survey" / "samskabelse_2016"


def test_status_is_derived_by_the_one_rule_when_the_export_has_no_status_block(sample_export):
    landing, export = sample_export
    reference = read(only_delivery(landing), PSEUDONYMISE).tables["survey_respondents"]

    def without_status(header, rows):
        keep = [index for index, name in enumerate(header) if not name.startswith("stato_")]
        header[:] = [header[index] for index in keep]
        return [[row[index] for index in keep] for row in rows]

    edit_rows(export / "dataset.csv", without_status)
    rewrite(
        export / "structure.csv",
        lambda text: "\r\n".join(line for line in text.split("\r\n") if "\tstato_" not in line),
    )
    batch = read(only_delivery(landing), PSEUDONYMISE)
    derived = batch.tables["survey_respondents"]
    assert set(derived["status_rule"]) == {"derived: completed if finished, partial if any answer, else distributed"}
    # Completed and partial heads keep their status; those who never answered read as distributed
    # (the status block's 'new' and 'dropped out' cannot be derived).
    expected = reference["status_code"].where(reference["status_code"].isin([3, 4]), 2)
    assert derived["status_code"].tolist() == expected.tolist()


def test_municipalities_are_resolved_from_names_and_the_uncertain_are_quarantined(sample_export):
    landing, export = sample_export

    def typed_names(header, rows):
        column = header.index("kommune")
        rows[0][column] = "Københavns Kommune"
        rows[1][column] = "Kbh."
        rows[2][column] = "Hoeje Taastrup"
        rows[3][column] = "Lyngby"  # not certain: never guessed
        rows[4][column] = "Christiansø"
        rows[5][column] = ""
        return rows

    edit_rows(export / "dataset.csv", typed_names)
    batch = read(only_delivery(landing), Pseudonymiser(b"q" * 32))
    respondents = batch.tables["survey_respondents"].set_index("source_row")
    assert respondents.loc[[2, 3, 4], "municipality_code"].tolist() == [101, 101, 169]
    assert (respondents.loc[6, "municipality_code"], respondents.loc[6, "area_level"]) == (
        411,
        "outside_municipalities",
    )
    assert 5 not in respondents.index and 7 not in respondents.index
    assert [(r.row, r.column) for r in batch.rejects] == [(7, "kommune"), (5, "kommune")]
    assert "held in raw.survey_unresolved_municipalities" in batch.rejects[1].reason
    assert "Lyngby" not in " ".join(str(reject) for reject in batch.rejects)
    quarantine = batch.tables["survey_unresolved_municipalities"]
    assert quarantine[["value_text", "source_row"]].values.tolist() == [["Lyngby", 5]]
    assert any("Christiansø" in note for note in batch.notes)


def test_a_mapping_entry_names_the_background_variables_of_a_questionnaire_with_other_names(
    tmp_path, sample_export, monkeypatch
):
    """A second wave with renamed variables needs a mapping entry, not code."""
    landing, export = sample_export
    project = tmp_path / "dbt_project"
    shutil.copytree(get_settings().dbt_project_dir / "seeds", project / "seeds")
    seed = project / "seeds" / "survey_exports.csv"
    seed.write_text(
        seed.read_text(encoding="utf-8") + "wave2_*,,2018,Anden runde,,kommunenr,omraade,,,\n",
        encoding="utf-8",
    )
    renamed = landing / "survey" / "wave2_export"
    export.rename(renamed)
    for name in ("dataset.csv", "structure.csv", "labels.csv"):
        rewrite(renamed / name, lambda text: text.replace("kommune", "kommunenr").replace("sektor", "omraade"))
    monkeypatch.setenv("SAMSKAB_DBT_PROJECT_DIR", str(project))
    reset_settings()
    try:
        batch = read(only_delivery(landing), PSEUDONYMISE)
    finally:
        monkeypatch.delenv("SAMSKAB_DBT_PROJECT_DIR")
        reset_settings()
    respondents = batch.tables["survey_respondents"]
    assert set(respondents["wave_id"]) == {"2018"} and respondents["municipality_code"].notna().all()
    assert respondents["sector_area_code"].between(1, 8).all() and batch.rejects == []


# --- bad input: refused whole, or rejected row by row, always naming file, row and reason --------------


def refused(landing: Path) -> LandingFileError:
    with pytest.raises(LandingFileError) as caught:
        read(only_delivery(landing), PSEUDONYMISE)
    return caught.value


def test_a_utf16_dataset_cut_at_an_odd_byte_is_refused_with_the_byte_position_and_no_content(sample_export):
    landing, export = sample_export
    dataset = export / "dataset.csv"
    raw = dataset.read_bytes()
    dataset.write_bytes(raw[: len(raw) // 2 + 1])
    error = refused(landing)
    assert error.file == dataset and "odd number of bytes" in error.reason and "cut short" in error.reason
    assert "@" not in str(error)


def test_a_dataset_cut_mid_row_is_refused_whole(sample_export):
    landing, export = sample_export
    dataset = export / "dataset.csv"
    raw = dataset.read_bytes()
    dataset.write_bytes(raw[: (len(raw) // 2) & ~1])  # an even byte count: decodes, but ends mid-row
    error = refused(landing)
    assert error.file == dataset and error.reason.startswith("ends mid-row") and error.row is not None


def test_an_undecodable_utf16_file_is_refused_without_quoting_its_bytes(sample_export):
    landing, export = sample_export
    dataset = export / "dataset.csv"
    raw = bytearray(dataset.read_bytes())
    raw[1000:1002] = b"\x00\xd8"  # a lone surrogate: not UTF-16
    dataset.write_bytes(bytes(raw))
    error = refused(landing)
    assert "is not valid UTF-16 at byte 1,000" in error.reason
    assert "\\x" not in str(error) and "@" not in str(error)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda raw: b"", "is empty (0 bytes)"),
        (lambda raw: raw.decode("utf-16").encode("utf-16-le"), "looks like UTF-16 without a byte-order mark"),
        (lambda raw: raw.decode("utf-16").encode("utf-32"), "is UTF-32, an unexpected encoding"),
        (lambda raw: b"responde;kommune\r\n1;\x81\r\n", "is in an 8-bit encoding that cannot be told with certainty"),
    ],
    ids=["empty", "utf16-without-bom", "utf32", "undefined-windows-1252-byte"],
)
def test_empty_files_and_unexpected_encodings_are_refused_saying_what_is_wrong(sample_export, damage, expected):
    landing, export = sample_export
    dataset = export / "dataset.csv"
    dataset.write_bytes(damage(dataset.read_bytes()))
    error = refused(landing)
    assert error.file == dataset and expected in error.reason


def test_a_header_only_dataset_is_refused_as_holding_no_data_rows(sample_export):
    landing, export = sample_export
    rewrite(export / "dataset.csv", lambda text: text.split("\n")[0] + "\n")
    assert "has a header but no data rows" in refused(landing).reason


def test_a_dataset_whose_columns_do_not_match_its_structure_is_refused(sample_export):
    landing, export = sample_export
    rewrite(export / "dataset.csv", lambda text: text.replace("\tq2\t", "\tq2x\t", 1))
    error = refused(landing)
    assert error.file.name == "dataset.csv" and "do not match structure.csv" in error.reason and "q2x" in error.reason


def test_a_structure_file_error_is_filed_under_the_structure_file(sample_export):
    landing, export = sample_export
    rewrite(export / "structure.csv", lambda text: text.replace("questionName", "spørgsmål", 1))
    error = refused(landing)
    assert error.file.name == "structure.csv" and error.row == 1


def test_a_workbook_missing_a_sheet_is_refused_naming_the_sheet(tmp_path):
    from openpyxl import load_workbook

    landing = tmp_path / "landing"
    generate_sample(landing, survey_shape="surveyxact-xlsx", waves=ONE_WAVE)
    workbook_path = landing / "survey" / "samskabelse_2016.xlsx"
    workbook = load_workbook(workbook_path)
    del workbook["Labels"]
    workbook.save(workbook_path)
    error = refused(landing)
    assert error.file == workbook_path and "lacks the sheet Labels" in error.reason


def test_a_truncated_workbook_and_a_truncated_sav_are_refused(tmp_path):
    for shape, suffix in (("surveyxact-xlsx", ".xlsx"), ("spss-sav", ".sav")):
        landing = tmp_path / shape
        generate_sample(landing, survey_shape=shape, waves=ONE_WAVE)
        path = landing / "survey" / f"samskabelse_2016{suffix}"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        error = refused(landing)
        assert error.file == path and "cut short" in error.reason, shape


def test_bad_rows_and_cells_are_rejected_with_file_row_column_and_reason_and_the_rest_is_loaded(sample_export):
    landing, export = sample_export

    def damage(header, rows):
        rows[3][header.index("q1")] = "7"  # outside its label set (1, 2, 9)
        rows[4][header.index("q3_2")] = "tre"  # not a number
        rows[5] = rows[5][:-3]  # a row cut short in the middle of the file
        rows[6][header.index("q2")] = "1\x002"  # a NUL character
        rows.append(list(rows[10]))  # a duplicate respondent id
        return rows

    edit_rows(export / "dataset.csv", damage)
    batch = read(only_delivery(landing), PSEUDONYMISE)
    found = sorted((reject.row, reject.column or "", reject.reason.split(";")[0]) for reject in batch.rejects)
    assert found == [
        (5, "q1", "is not one of the variable's labelled values"),
        (6, "q3_2", "is not a number"),
        (7, "", "has 99 fields"),
        (8, "q2", "holds a NUL character (the export is damaged)"),
        (788, "responde", "repeats the respondent id of row 12"),
    ]
    assert all(str(reject).startswith(f"{export / 'dataset.csv'}, row ") for reject in batch.rejects)
    respondents = batch.tables["survey_respondents"]
    assert len(respondents) == 786 - 2  # the short row and the NUL row; the duplicate was never a new one
    assert not respondents["source_row"].isin([7, 8, 788]).any()
    for reject in batch.rejects:
        assert "tre" not in reject.reason and "\x00" not in reject.reason


def test_a_qualtrics_export_with_choice_text_keeps_closed_answers_as_answers_not_free_text(tmp_path):
    """Exported with choice text instead of numeric values, a closed question's words are its answers; a
    free-text column stays free text (raw only) even when Qualtrics' _TEXT mark is missing."""
    landing = tmp_path / "landing"
    generate_sample(landing, survey_shape="qualtrics", waves=ONE_WAVE)
    path = landing / "survey" / "samskabelse_2016.csv"
    text = path.read_bytes().decode("utf-8-sig")
    header, texts, ids, *rows = text.split("\r\n")
    column = header.split(",").index("q1")
    words = {"1": "Ja", "2": "Nej", "9": "Ved ikke"}

    def in_words(row: str) -> str:
        fields = row.split(",")
        if len(fields) > column and fields[column] in words:
            fields[column] = words[fields[column]]
        return ",".join(fields)

    ids = ids.replace("_TEXT", "")  # and the free-text question left unmarked, as a hand-edited export might
    path.write_bytes("\r\n".join([header, texts, ids, *(in_words(row) for row in rows)]).encode("utf-8-sig"))
    batch = read(only_delivery(landing), PSEUDONYMISE)
    variables = batch.tables["survey_variables"].set_index("variable_name")
    assert (variables.loc["q1", "value_kind"], variables.loc["q1", "role"]) == ("choice_text", "answer")
    assert (variables.loc["q5", "value_kind"], variables.loc["q5", "role"]) == ("text", "open_text")
    q1 = batch.tables["survey_answers"].to_pandas().query("variable_name == 'q1'")
    assert set(q1["answer_value"]) <= {"Ja", "Nej", "Ved ikke"} and q1["answer_number"].isna().all()
    assert "q1" not in set(batch.tables["survey_open_answers"]["variable_name"])
    assert "@" not in "".join(batch.tables["survey_answers"].column("answer_value").to_pylist())


def test_a_qualtrics_tsv_download_in_utf16_is_read_like_its_csv(tmp_path):
    landing = tmp_path / "landing"
    generate_sample(landing, survey_shape="qualtrics", waves=ONE_WAVE)
    csv_path = landing / "survey" / "samskabelse_2016.csv"
    reference = read(only_delivery(landing), PSEUDONYMISE)
    text = csv_path.read_bytes().decode("utf-8-sig")
    rows = list(csv_module.reader(io.StringIO(text)))
    buffer = io.StringIO()
    csv_module.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows(rows)
    csv_path.unlink()
    (landing / "survey" / "samskabelse_2016.tsv").write_bytes(
        "\ufeff".encode("utf-16-le") + buffer.getvalue().encode("utf-16-le")
    )
    batch = read(only_delivery(landing), PSEUDONYMISE)
    pd.testing.assert_frame_equal(answers(batch), answers(reference))
    assert "tab-separated, UTF-16" in batch.tables["survey_exports"]["shape"].iloc[0]


def test_files_that_are_almost_a_delivery_are_listed_with_what_to_do(tmp_path):
    landing = tmp_path / "landing"
    (landing / "survey").mkdir(parents=True)
    for name in ("export.zip", "old.xls", "notes.txt", "picture.png"):
        (landing / "survey" / name).write_bytes(b"x")
    deliveries, findings = discover(landing / "survey", Inventory(landing))
    reasons = {finding.path: finding.reason for finding in findings}
    assert deliveries == [] and {finding.state for finding in findings} == {"not recognised"}
    assert "unpack it into a folder" in reasons["survey/export.zip"]
    assert "save it as .xlsx" in reasons["survey/old.xls"]
    assert "is not a survey export" in reasons["survey/picture.png"]


def test_a_folder_of_folders_or_an_empty_folder_in_survey_is_no_export(tmp_path):
    landing = tmp_path / "landing"
    generate_sample(landing, waves=ONE_WAVE)
    nested = landing / "survey" / "2016"
    nested.mkdir()
    (landing / "survey" / "samskabelse_2016").rename(nested / "samskabelse_2016")
    (landing / "survey" / "empty").mkdir()
    deliveries, findings = discover(landing / "survey", Inventory(landing))
    assert deliveries == []
    states = {finding.path: (finding.state, finding.reason) for finding in findings}
    assert states["survey/empty/"][0] == "ignored"
    state, reason = states["survey/2016/samskabelse_2016/dataset.csv"]
    assert state == "not recognised" and "exports go directly under survey/" in reason
