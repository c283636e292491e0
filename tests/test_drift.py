"""Drift of the shares between the file analysts read now and the candidate: a warning with counts only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.quality.drift import compared_marts, drift_verdicts

MOTIVES = """
create table motives as select * from (values
    ('2016', 'all', null, 'motive', 1, 'selected', {a}, 0.60),
    ('2016', 'all', null, 'motive', 6, 'selected', {b}, 0.05),
    ('2016', 'sector_area', 3, 'motive', 6, 'selected', {c}, null)
) as t(wave_id, breakdown, sector_area_code, concept, item_code, answer_category, share, weighted_share)
"""


def write_file(path: Path, *statements: str) -> Path:
    connection = duckdb.connect(str(path))
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()
    return path


def test_every_concept_mart_of_the_study_mapping_and_the_coverage_are_compared():
    marts = compared_marts()
    assert {"motives", "partner_collaboration", "collaboration_topics", "survey_coverage"} <= set(marts)
    assert "collaborations" not in marts  # one row per collaboration: no share to drift
    assert marts["survey_coverage"] == (("wave_id", "breakdown", "group_code"), ("rr1", "rr2"))


def test_a_share_that_moved_more_than_the_threshold_warns_with_counts_and_no_share(tmp_path):
    published = write_file(tmp_path / "published.duckdb", MOTIVES.format(a=0.61, b=0.05, c=0.50))
    candidate = write_file(
        tmp_path / "candidate.duckdb",
        MOTIVES.format(a=0.62, b=0.31, c="null"),  # 6 moved 0.26; the sector-area share became empty
        "create table survey_coverage as select '2016' as wave_id, 'all' as breakdown, "
        "null::integer as group_code, 0.4 as rr1, 0.5 as rr2",
    )
    verdicts = {verdict.table: verdict for verdict in drift_verdicts(candidate, published, threshold=0.10)}
    assert set(verdicts) == {"main.motives", "main.survey_coverage"}

    motives = verdicts["main.motives"]
    share, weighted = motives.outcomes
    assert (share.column, share.severity, share.success) == ("share", "warning", False)
    assert share.observed.startswith("1 of 2 shares moved more than 0.10")
    assert "0.31" not in share.observed and "0.26" not in share.observed and "0.05" not in share.observed
    assert weighted.success and weighted.observed == "0 of 2 shares moved more than 0.10"  # empty ones are not compared
    assert motives.passed  # a warning never blocks
    coverage = verdicts["main.survey_coverage"].outcomes[0]
    assert coverage.success and coverage.observed == "new table: nothing to compare"


def test_nothing_is_compared_before_the_first_publish(tmp_path):
    candidate = write_file(tmp_path / "candidate.duckdb", MOTIVES.format(a=0.6, b=0.05, c=0.5))
    assert drift_verdicts(candidate, tmp_path / "never_published.duckdb", threshold=0.10) == []
