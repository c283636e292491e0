"""Landing readers: real delivery shapes read, bad rows rejected with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.pseudonyms import Pseudonymiser
from flows.sample.generate import generate_sample
from flows.sources.case_register import read_case_register
from flows.sources.common import LandingFileError
from flows.sources.municipalities import MunicipalityResolver, reference_resolver
from flows.sources.statbank import read_statbank_population
from flows.sources.surveyxact import read_surveyxact_export

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ROOT / "tests" / "fixtures" / "formats"
PSEUDONYMISE = Pseudonymiser(b"t" * 32)


@pytest.fixture(scope="module")
def matcher() -> MunicipalityResolver:
    return reference_resolver()


@pytest.fixture()
def sample(tmp_path) -> Path:
    generate_sample(tmp_path)
    return tmp_path


def write_utf16(path: Path, text: str) -> None:
    path.write_bytes("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"))


def test_survey_export_is_read_into_pseudonymised_raw_tables(sample):
    export = sample / "survey" / "samskabelse_2016"
    batch = read_surveyxact_export(export, PSEUDONYMISE)
    respondents = batch.tables["survey_respondents"]
    assert len(respondents) == 98 * 8 + 1 and batch.rejects == []
    assert respondents["email_pseudonym"].str.startswith("email_").all()
    assert not respondents.astype(str).apply(lambda column: column.str.contains("@")).any().any()
    answers = batch.tables["survey_answers"]
    assert set(answers["variable_name"]) == {
        "q1",
        "q2",
        *(f"q3_{n}" for n in range(1, 9)),
        *(f"q4_{n}" for n in range(1, 8)),
    }
    assert len(batch.tables["survey_variables"]) == 35
    assert batch.tables["survey_open_answers"]["variable_name"].eq("q5").all()


def test_real_surveyxact_export_is_decoded_and_refused_for_missing_background_variables():
    """The byte-exact SurveyXact export from another survey: decoded, but it lacks kommune and sektor."""
    with pytest.raises(LandingFileError, match=r"line 1 lacks the variables kommune, sektor") as refused:
        read_surveyxact_export(FORMATS / "surveyxact", PSEUDONYMISE)
    assert refused.value.file.name == "dataset.csv" and refused.value.row == 1


def test_survey_row_with_bad_cells_is_rejected_naming_file_line_and_column(sample):
    export = sample / "survey" / "samskabelse_2016"
    lines = (export / "dataset.csv").read_bytes().decode("utf-16").lstrip("\ufeff").split("\n")
    header = lines[0].split("\t")
    row = lines[3].split("\t")
    row[header.index("sektor")] = "tre"
    lines[3] = "\t".join(row)
    row = lines[4].split("\t")
    row[header.index("stato_4")] = "1"
    row[header.index("stato_2")] = "1"
    lines[4] = "\t".join(row)
    write_utf16(export / "dataset.csv", "\n".join(lines))
    batch = read_surveyxact_export(export, PSEUDONYMISE)
    assert [str(reject).split("dataset.csv, ")[1] for reject in batch.rejects] == [
        "line 4, column sektor: is not a whole number",
        "line 5, column stato_1..stato_5: marks 2 overall statuses; exactly one is expected",
    ]
    assert len(batch.tables["survey_respondents"]) == 98 * 8 + 1 - 2


def test_export_that_is_not_utf16_is_refused_with_advice(sample):
    export = sample / "survey" / "samskabelse_2016"
    (export / "dataset.csv").write_text("responde\tkommune\n1\t101\n", encoding="utf-8")
    with pytest.raises(LandingFileError, match="expected UTF-16"):
        read_surveyxact_export(export, PSEUDONYMISE)


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("København", 101),
        ("Københavns Kommune", 101),
        ("  københavn ", 101),
        ("KØBENHAVN", 101),
        ("Kbh.", 101),
        ("101", 101),
        ("0101", 101),
        ("Høje Taastrup", 169),
        ("Hoeje-Taastrup", 169),
        ("hoeje taastrup kommune", 169),
        ("Århus", 751),
        ("Aarhus Kommune", 751),
        ("Nordfyn", 480),
        ("Nordfyns Kommune", 480),
        ("Vesthimmerland", 820),
        ("Bornholms Regionskommune", 400),
        ("Lyngby-Taarbæk", 173),
        ("Brønderslev-Dronninglund", 810),
    ],
)
def test_municipality_spellings_resolve_to_the_official_code(matcher, label, code):
    area = matcher.resolve(label)
    assert (area.level, area.code) == ("municipality", code)


@pytest.mark.parametrize("label", ["Lyngby", "Region", "12", "999", "4110", "Kommune", "", "København Frederiksberg"])
def test_uncertain_municipality_texts_are_unresolved_never_guessed(matcher, label):
    assert matcher.resolve(label).level == "unresolved"


def test_christianso_the_country_and_regions_are_recognised_as_other_areas(matcher):
    assert (matcher.resolve("Christiansø").level, matcher.resolve("411").code) == ("outside_municipalities", 411)
    assert matcher.resolve("Hele landet").level == "country"
    assert matcher.resolve("Region Hovedstaden").level == "region"


def test_statbank_extract_keeps_levels_and_rejects_unknown_areas(sample, matcher):
    path = sample / "statbank" / "FOLK1A_kommuner.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_bytes(("\ufeff" + text + "Christiansø;2016K4;90\r\nAarhus;2016K5;1\r\nSkive;2016K4;..\r\n").encode())
    batch = read_statbank_population(path, matcher)
    frame = batch.tables["statbank_population"]
    assert frame["area_level"].value_counts().to_dict() == {
        "municipality": 784,
        "region": 40,
        "country": 8,
        "outside_municipalities": 1,
    }
    assert frame.loc[frame["area_level"] == "municipality", "municipality_code"].nunique() == 98
    assert [(reject.row, reject.column) for reject in batch.rejects] == [(835, "TID"), (836, "INDHOLD")]


def test_real_statbank_response_with_another_variable_is_refused_with_advice(matcher):
    with pytest.raises(LandingFileError, match="OMRÅDE;TID;INDHOLD"):
        read_statbank_population(FORMATS / "statbank" / "FOLK1A_whole_country.csv", matcher)


def test_case_register_maps_danish_labels_and_rejects_unknown_ones(sample):
    cases = sample / "cases"
    activities = cases / "fieldwork_activities.csv"
    activities.write_text(
        activities.read_text(encoding="utf-8").replace(";Gruppeinterview;", ";Fokusgruppe;", 1), encoding="utf-8"
    )
    batch = read_case_register(cases, PSEUDONYMISE)
    assert len(batch.tables["case_studies"]) == 5
    frame = batch.tables["fieldwork_activities"]
    assert set(frame["activity_type"]) == {
        "individual_interview",
        "group_interview",
        "participant_observation",
        "spot_interview",
        "desk_research",
    }
    assert frame["informant_pseudonym"].dropna().str.startswith("informant_").all()
    assert len(batch.rejects) == 1 and batch.rejects[0].column == "type"
    assert "is not one of the names in the reference list" in batch.rejects[0].reason
    assert "Fokusgruppe" not in str(batch.rejects[0])
