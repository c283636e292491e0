"""The embedded sample: deterministic, in SurveyXact's and Statbank's real shapes, with the study's quirks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.sample.generate import generate_sample


def test_same_seed_writes_byte_identical_files(tmp_path):
    first = generate_sample(tmp_path / "a")
    second = generate_sample(tmp_path / "b")
    assert [path.read_bytes() for path in first.files] == [path.read_bytes() for path in second.files]
    other = generate_sample(tmp_path / "c", seed=7)
    assert first.files[0].read_bytes() != other.files[0].read_bytes()


def test_survey_export_has_surveyxact_quirks(tmp_path):
    generate_sample(tmp_path)
    export = tmp_path / "survey" / "samskabelse_2016"
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
    generate_sample(tmp_path)
    for export, dont_know in (("samskabelse_2016", "9"), ("opfoelgning_2019", "8")):
        frame = read_dataset(tmp_path / "survey" / export)
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
    generate_sample(tmp_path)
    first = read_dataset(tmp_path / "survey" / "samskabelse_2016")
    second = read_dataset(tmp_path / "survey" / "opfoelgning_2019")
    assert {"q1", "q3_1", "q4_6"} <= set(first) and not {"q1", "q3_1", "q4_6"} & set(second)
    assert {"fokus", "aktoer_1", "motiv_7"} <= set(second)
    assert set(second["aktoer_1"]) - {""} <= {"1", "2", "3", "4", "5", "8"} and "5" in set(second["aktoer_1"])


def test_statbank_extract_is_served_shape_with_labels_and_quarters(tmp_path):
    generate_sample(tmp_path)
    raw = (tmp_path / "statbank" / "FOLK1A_kommuner.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "OMRÅDE;TID;INDHOLD"
    assert any(line.startswith("Hele landet;2016K4;") for line in lines)
    assert any(line.startswith("Region Hovedstaden;") for line in lines)
    assert any(line.startswith("Høje-Taastrup;2015K1;") for line in lines)


def test_scale_adds_survey_rounds_and_registry_history(tmp_path: Path):
    manifest = generate_sample(tmp_path, scale=2)
    assert (tmp_path / "survey" / "samskabelse_2016_2" / "dataset.csv") in manifest.files
    lines = (tmp_path / "statbank" / "FOLK1A_kommuner.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) - 1 == (1 + 5 + 98) * 16
