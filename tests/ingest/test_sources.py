"""Case-register and Statbank readers, and the municipality resolver: real shapes read, bad rows rejected
with file, row and reason. Survey exports and Statbank's formats have their own tests
(test_survey_exports.py, test_statbank_format.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.sources.municipalities import MunicipalityResolver, reference_resolver
from samskab.ingest.sources.statbank import read_data_delivery
from samskab.sample.generate import generate_sample
from tests.lakes import FOLK1A_ANSWER, make_sample_lake

PSEUDONYMISE = Pseudonymiser(b"t" * 32)


@pytest.fixture(scope="module")
def matcher() -> MunicipalityResolver:
    return reference_resolver()


@pytest.fixture()
def sample(tmp_path) -> Path:
    """The sample's landing zone (its Statbank recordings beside it, in tmp_path)."""
    landing = tmp_path / "landing"
    generate_sample(landing)
    return landing


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


def test_statbank_answer_keeps_levels_and_rejects_unknown_areas_periods_and_figures(tmp_path):
    lake, _ = make_sample_lake(tmp_path, waves=("2016",))
    path = lake / "landing" / FOLK1A_ANSWER
    text = path.read_bytes().decode("utf-8-sig")
    assert text.endswith("\r\n") and len(text.split("\r\n")) == 1 + 7560 + 1  # the header, the figures, the end
    path.write_bytes(("\ufeff" + text + "999;TOT;2016K4;90\r\n101;TOT;2016K5;1\r\n851;TOT;2016K4;mange\r\n").encode())
    batch = read_data_delivery(path, lake / "landing" / "statbank")  # with FOLK1A's tableinfo landed beside it
    frame = batch.tables["statbank_observations"]
    assert frame["area_level"].value_counts().to_dict() == {
        "municipality": 98 * 3 * 24,
        "region": 5 * 3 * 24,
        "country": 3 * 24,
        "outside_municipalities": 3 * 24,
    }
    assert frame.loc[frame["area_level"] == "municipality", "municipality_code"].nunique() == 98
    assert set(frame.loc[frame["area_level"] == "outside_municipalities", "area_code"]) == {"411"}  # Christiansø
    assert frame["dimensions_at_total"].sum() == (1 + 5 + 98 + 1) * 24  # KØN at TOT
    assert (frame["source_file"] == str(path)).all() and frame["source_row"].tolist() == list(range(2, 7562))
    assert [(reject.row, reject.column) for reject in batch.rejects] == [
        (7562, "OMRÅDE"),
        (7563, "Tid"),
        (7564, "INDHOLD"),
    ]
