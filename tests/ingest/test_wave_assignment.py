"""Which exports count for a wave: a second export that a pattern gives the same wave never merges into it
unless the mapping names each export; it is held back, named, and counted again once the mapping says.

Ingest alone (no dbt): the holds are written to raw.survey_wave_holds, which staging reads (the figures
side is proved in tests/build/test_study_waves.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone
from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import make_sample_lake, using_setting

PSEUDONYMISE = Pseudonymiser(b"w" * 32)


def holds(settings: Settings) -> list[tuple[str, str]]:
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return connection.execute("select export_id, wave_id from raw.survey_wave_holds order by all").fetchall()
    finally:
        connection.close()


def attention(report) -> str:
    return "\n".join(report.needing_attention())


@pytest.fixture()
def first_wave_lake(tmp_path) -> tuple[Path, Settings]:
    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    settings = Settings(data_lake=lake)
    report = ingest_landing_zone(settings, "run-1", PSEUDONYMISE)
    assert report.review.holds == [] and holds(settings) == []
    return lake, settings


def test_a_second_export_the_pattern_gives_the_same_wave_is_held_back_until_the_first_is_withdrawn(first_wave_lake):
    lake, settings = first_wave_lake
    survey = lake / "landing" / "survey"
    # A new wave dropped as samskabelse_2021: the entry samskabelse_* gives it wave 2016 too.
    shutil.copytree(survey / "samskabelse_2016", survey / "samskabelse_2021")
    report = ingest_landing_zone(settings, "run-2", PSEUDONYMISE)
    assert holds(settings) == [("samskabelse_2021", "2016")]
    (line,) = [line for line in report.needing_attention() if line.startswith("HELD BACK")]
    assert line.startswith("HELD BACK survey/samskabelse_2021: kept out of wave 2016")
    assert "survey/samskabelse_2016, delivered earlier, already counts for it" in line
    assert "784 heads" in line and "mapping entry 'samskabelse_*'" in line
    assert "dbt_project/seeds/survey_exports.csv" in line and "landing/withdrawn/" in line
    # Loaded whole all the same: nothing of it is lost while it waits.
    assert {load.delivery: load.state for load in report.loads}["survey/samskabelse_2021"] == "loaded"

    # Nothing changed: it is still held back, and still named.
    report = ingest_landing_zone(settings, "run-3", PSEUDONYMISE)
    assert holds(settings) == [("samskabelse_2021", "2016")] and "HELD BACK" in attention(report)

    # The first export is withdrawn: the second now counts for the wave.
    (lake / "landing" / "withdrawn").mkdir()
    shutil.move(survey / "samskabelse_2016", lake / "landing" / "withdrawn" / "samskabelse_2016")
    report = ingest_landing_zone(settings, "run-4", PSEUDONYMISE)
    assert holds(settings) == [] and "HELD BACK" not in attention(report)


def test_two_exports_of_one_wave_delivered_together_stop_the_wave(tmp_path):
    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    survey = lake / "landing" / "survey"
    shutil.copytree(survey / "samskabelse_2016", survey / "samskabelse_2016_reexport")
    settings = Settings(data_lake=lake)
    report = ingest_landing_zone(settings, "run-1", PSEUDONYMISE)
    assert holds(settings) == [("samskabelse_2016", "2016"), ("samskabelse_2016_reexport", "2016")]
    text = attention(report)
    assert "and the wave stops" in text and "delivered at the same time" in text
    assert "784 heads and 786 respondent ids" in text  # a re-export: the same heads and records


def test_exports_the_mapping_names_each_count_together(tmp_path):
    """When the mapping names every export of a wave exactly, the researcher has said all of them count."""
    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    survey = lake / "landing" / "survey"
    shutil.copytree(survey / "samskabelse_2016", survey / "samskabelse_2016_reminder")
    project = tmp_path / "dbt_project"
    shutil.copytree(Settings().dbt_project_dir / "seeds", project / "seeds")
    seed = project / "seeds" / "survey_exports.csv"
    header, *_ = seed.read_text(encoding="utf-8").splitlines()
    entries = [
        "samskabelse_2016,,2016,Kommunernes samarbejde (syntetisk),,kommune,sektor,,,",
        "samskabelse_2016_reminder,,2016,Kommunernes samarbejde (syntetisk),,kommune,sektor,,,",
    ]
    seed.write_text("\n".join([header, *entries]) + "\n", encoding="utf-8")
    with using_setting("SAMSKAB_DBT_PROJECT_DIR", str(project)):
        settings = Settings.from_environment(data_lake=lake)
        report = ingest_landing_zone(settings, "run-1", PSEUDONYMISE)
    assert report.review.holds == [] and holds(settings) == []
    matched = {load.delivery for load in report.loads if load.state == "loaded"}
    assert {"survey/samskabelse_2016", "survey/samskabelse_2016_reminder"} <= matched


def test_an_export_of_another_questionnaire_under_the_waves_pattern_is_held_back(first_wave_lake):
    """Its background variables are there, but hardly any of the variables the wave's item map names."""
    lake, settings = first_wave_lake
    survey = lake / "landing" / "survey"
    (survey / "samskabelse_2016").rename(survey / "other_2016")  # no entry: unmapped, counts for nothing
    other = survey / "samskabelse_trivsel"
    other.mkdir()
    keep = ("responde", "kommune", "sektor", "q1", "q2")
    for name in ("dataset.csv", "structure.csv", "labels.csv"):
        text = (survey / "other_2016" / name).read_bytes().decode("utf-16")
        rows = [line.split("\t") for line in text.splitlines()]
        if name == "dataset.csv":
            columns = [index for index, field in enumerate(rows[0]) if field in keep]
            rows = [[row[index] for index in columns] if len(row) > 1 else row for row in rows]
        elif name == "structure.csv":
            rows = [row for number, row in enumerate(rows) if number == 0 or len(row) < 2 or row[1] in keep]
        lines = ["\t".join(row) for row in rows]
        (other / name).write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    report = ingest_landing_zone(settings, "run-2", PSEUDONYMISE)
    assert holds(settings) == [("samskabelse_trivsel", "2016")]
    (line,) = [line for line in report.needing_attention() if line.startswith("HELD BACK")]
    assert "its questionnaire differs from the wave's" in line and "survey_item_map.csv" in line
