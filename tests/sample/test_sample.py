"""The embedded sample: deterministic, in SurveyXact's and Statbank's real shapes, with the study's quirks.

Each test writes the landing zone in tmp_path/landing, so the Statbank recordings the sample writes
beside it (tmp_path/recorded_api/statbank) stay inside the test's own folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from samskab.sample.generate import generate_sample
from tests.lakes import ARE207_ANSWER, FOLK1A_ANSWER, make_sample_lake


def _recordings(lake: Path) -> dict[str, bytes]:
    folder = lake / "recorded_api" / "statbank"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_seed_writes_byte_identical_files(tmp_path):
    first = generate_sample(tmp_path / "a" / "landing")
    second = generate_sample(tmp_path / "b" / "landing")
    assert [path.read_bytes() for path in first.files] == [path.read_bytes() for path in second.files]
    recorded = _recordings(tmp_path / "a")
    assert {"FOLK1A_data.csv", "FOLK1A_tableinfo.json", "ARE207_data.csv", "ARE207_tableinfo.json"} <= set(recorded)
    assert recorded == _recordings(tmp_path / "b")
    other = generate_sample(tmp_path / "c" / "landing", seed=7)
    assert first.files[0].read_bytes() != other.files[0].read_bytes()
    assert recorded["FOLK1A_data.csv"] != _recordings(tmp_path / "c")["FOLK1A_data.csv"]


def test_survey_export_has_surveyxact_quirks(tmp_path):
    landing = tmp_path / "landing"
    generate_sample(landing)
    export = landing / "survey" / "samskabelse_2016"
    for name in ("dataset.csv", "structure.csv", "labels.csv"):
        assert (export / name).read_bytes()[:2] == b"\xff\xfe", f"{name} is not UTF-16 with a BOM"
    structure = (export / "structure.csv").read_bytes().decode("utf-16").split("\r\n")
    assert structure[0].endswith("\t") and structure[1].endswith("\t")  # the trailing empty column
    labels = (export / "labels.csv").read_bytes().decode("utf-16").split("\r\n")
    assert labels[0].startswith('"x_exclude"')  # no header line
    header = (export / "dataset.csv").read_bytes().decode("utf-16").split("\n")[0].lstrip("\ufeff").split("\t")
    assert {"responde", "closetim", "starttim", "email", "name", "stato_4"} <= set(header)


def read_dataset(export: Path) -> pd.DataFrame:
    return pd.read_csv(export / "dataset.csv", sep="\t", encoding="utf-16", dtype=str, keep_default_na=False)


def test_each_wave_has_every_head_about_half_answering_partials_dont_knows_and_resubmissions(tmp_path):
    landing = tmp_path / "landing"
    generate_sample(landing)
    for export, dont_know in (("samskabelse_2016", "9"), ("opfoelgning_2019", "8")):
        frame = read_dataset(landing / "survey" / export)
        assert frame.groupby(["kommune", "sektor"]).ngroups == 98 * 8
        assert len(frame) == 98 * 8 + 2  # a head who completed twice, and one who started again
        answering = frame[(frame["stato_3"] == "1") | (frame["stato_4"] == "1")]
        assert 0.3 < len(answering.groupby(["kommune", "sektor"])) / (98 * 8) < 0.6
        assert (frame["stato_3"] == "1").sum() > 20  # dropped out part-way
        assert (frame["stato_6"] == "1").sum() > 5  # outside the target group
        partner_items = [column for column in frame if column.startswith(("q3_", "aktoer_"))]
        assert len(partner_items) == 8
        assert (frame[partner_items] == dont_know).to_numpy().sum() > 50  # "Ved ikke", each wave its own code
        twice = answering.groupby(["kommune", "sektor"]).size()
        assert (twice == 2).sum() == 2
        assert frame["email"].str.contains("@").all() and frame["name"].str.len().gt(0).all()


def test_the_second_wave_renames_the_variables_and_asks_frequency_on_five_points(tmp_path):
    landing = tmp_path / "landing"
    generate_sample(landing)
    first = read_dataset(landing / "survey" / "samskabelse_2016")
    second = read_dataset(landing / "survey" / "opfoelgning_2019")
    assert {"q1", "q3_1", "q4_6"} <= set(first) and not {"q1", "q3_1", "q4_6"} & set(second)
    assert {"fokus", "aktoer_1", "motiv_7"} <= set(second)
    assert set(second["aktoer_1"]) - {""} <= {"1", "2", "3", "4", "5", "8"} and "5" in set(second["aktoer_1"])


def test_statbank_answers_are_served_shape_with_codes_quarters_and_decimal_commas(tmp_path):
    """What the connector lands from the sample's recordings is CSV as the API serves it: BOM, CRLF, `;`,
    codes (000 the country, 081-085 the regions, 01-11 the landsdele), Danish quarters, decimal commas
    and '..' where there is no figure."""
    lake, _ = make_sample_lake(tmp_path, waves=("2016",))
    raw = (lake / "landing" / FOLK1A_ANSWER).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
    lines = raw.decode("utf-8-sig").split("\r\n")[:-1]
    assert lines[0] == "OMRÅDE;KØN;TID;INDHOLD"
    assert any(line.startswith("000;TOT;2016K4;") for line in lines)  # Hele landet
    assert any(line.startswith("084;TOT;2016K4;") for line in lines)  # Region Hovedstaden
    assert any(line.startswith("169;2;2015K1;") for line in lines)  # Høje-Taastrup, women
    assert any(line.startswith("411;1;2020K4;") for line in lines)  # Christiansø
    assert len(lines) - 1 == (1 + 5 + 98 + 1) * 3 * 24
    area = (lake / "landing" / ARE207_ANSWER).read_bytes().decode("utf-8-sig").split("\r\n")[:-1]
    assert area[0] == "OMRÅDE;TID;INDHOLD"
    assert any(line.startswith("11;2016;") for line in area)  # Landsdel Nordjylland
    assert all("," in line.rsplit(";", 1)[1] for line in area[1:] if not line.startswith("411;"))
    assert [line for line in area if line.startswith("411;")] == [f"411;{year};.." for year in range(2015, 2021)]
    assert len(area) - 1 == (1 + 5 + 11 + 98 + 1) * 6


def test_scale_adds_survey_rounds_not_registry_figures(tmp_path: Path):
    lake, manifest = make_sample_lake(tmp_path, scale=2)
    survey = sorted(path.relative_to(lake / "landing").as_posix() for path in manifest.files if "survey" in path.parts)
    assert [path.split("/")[1] for path in survey[::3]] == ["opfoelgning_2019", "samskabelse_2016"]  # one per wave
    text = (lake / "landing" / "survey" / "samskabelse_2016" / "dataset.csv").read_bytes().decode("utf-16")
    # every record of the wave (784 heads, 2 of them resubmitted) twice
    assert len(text.strip().splitlines()) - 1 == 2 * (784 + 2)
    lines = (lake / "landing" / FOLK1A_ANSWER).read_bytes().decode("utf-8-sig").split("\r\n")[:-1]
    assert len(lines) - 1 == (1 + 5 + 98 + 1) * 3 * 24  # the declared table, whatever the scale
