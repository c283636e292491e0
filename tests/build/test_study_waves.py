"""A new survey wave is a mapping entry, not code: the study mapping in the seeds is all that changes.

The lake holds wave 2016 and the 2019 follow-up export, which renames and reorders the variables and
changes the partner question's scale. First the study mapping does not know 2019 (its entries are taken
out of a copy of the seeds, and the refreshed sample refreshed again): the export is read into raw,
reported as having no mapping entry, and every mart describes 2016 alone. Then the mapping entries of
2019 are added to the seeds (survey_exports.csv and survey_item_map.csv), the export is read again
without being delivered again, and the marts describe both waves, 2016 unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from samskab.common.settings import REPO_ROOT
from tests.lakes import copy_lake, published_tables, using_lake, using_setting

CONCEPT_MARTS = ["collaboration_focus", "partner_collaboration", "motives", "collaboration_phases", "barriers"]


def using_project(project: Path):
    """Point the platform at a copy of the dbt project (whose seeds a test may edit)."""
    return using_setting("SAMSKAB_DBT_PROJECT_DIR", str(project))


def rows_of_wave(frame: pd.DataFrame, wave: str) -> pd.DataFrame:
    """The wave's rows in a fixed order (a table has no row order)."""
    rows = frame[frame["wave_id"] == wave]
    return rows.sort_values(list(rows.columns)).reset_index(drop=True)


def test_a_second_wave_is_added_by_its_mapping_entries_alone(refreshed_lake, tmp_path):
    from flows.nightly_refresh import nightly_refresh

    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    seeds = project / "seeds"
    mapping_files = {
        name: (seeds / name).read_text(encoding="utf-8") for name in ("survey_exports.csv", "survey_item_map.csv")
    }
    wave_rows = {
        "survey_exports.csv": lambda line: line.startswith("opfoelgning_2019"),
        "survey_item_map.csv": lambda line: line.startswith("2019,"),
    }
    for name, text in mapping_files.items():
        kept = [line for line in text.splitlines(keepends=True) if not wave_rows[name](line)]
        assert len(kept) < len(text.splitlines())  # the 2019 entries were there, and are gone
        (seeds / name).write_text("".join(kept), encoding="utf-8")

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    marts = [*CONCEPT_MARTS, "survey_coverage", "survey_weights", "collaborations", "survey_answers_labelled"]
    with using_lake(lake), using_project(project):
        first = nightly_refresh()
        assert "survey/opfoelgning_2019" in [load.delivery for load in first.loads]
        before = published_tables(published, marts)
        exports = published_tables(published, ["meta.survey_exports"])["meta.survey_exports"].set_index("export_id")
        assert exports.loc["opfoelgning_2019", "wave_id"] is None  # read, but unmapped
        for mart, frame in before.items():
            assert set(frame["wave_id"]) == {"2016"}, mart

        for name, text in mapping_files.items():  # the study adds the wave's mapping entries: nothing else
            (seeds / name).write_text(text, encoding="utf-8")
        second = nightly_refresh()

    survey_loads = {load.delivery: load.state for load in second.loads if load.source == "survey"}
    assert survey_loads == {"survey/opfoelgning_2019": "loaded", "survey/samskabelse_2016": "loaded"}
    notes = published_tables(published, ["meta.delivery_notes"])["meta.delivery_notes"]
    said = " ".join(notes.loc[notes["delivery"] == "survey/samskabelse_2016", "note"])
    assert "was read again, unchanged: a reference seed its reader uses changed" in said
    after = published_tables(published, marts)
    for mart, frame in after.items():
        assert set(frame["wave_id"]) == {"2016", "2019"}, mart
        pd.testing.assert_frame_equal(rows_of_wave(frame, "2016"), rows_of_wave(before[mart], "2016"), obj=mart)
    coverage = after["survey_coverage"]
    assert (
        coverage.loc[(coverage["wave_id"] == "2019") & (coverage["breakdown"] == "all"), "n_invited"].item() == 98 * 8
    )
    # The 2019 export asks the partner question on a five-point scale: its "Ofte" and "Altid" both count
    # as always or often, and its don't-know code (8) is counted apart like 2016's (9).
    partners = after["partner_collaboration"]
    wave_2019 = partners[(partners["wave_id"] == "2019") & (partners["breakdown"] == "all")]
    assert set(wave_2019["answer_category"]) == {"always_or_often", "sometimes", "seldom", "never"}
    assert (wave_2019["n_valid"] > 100).all() and (wave_2019["n_dont_know"] > 0).any()
