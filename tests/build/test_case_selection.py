"""The case-selection mart, recomputed with pandas from the published file.

`case_selection` places every municipality on the study's typology (partner breadth, formalisation,
roles) from its heads' answers in the 2016 wave (the survey the cases were chosen from), sizes it by
population terciles at that wave's reference quarter (2016K1), ranks it among
all 98, and proposes five municipalities by a greedy maximum-variation rule. This file is a second,
independent implementation of those documented rules. It reads
- the published `survey_answers_labelled` (every answer of every responding head, itself proven equal
  to the landing files by tests/build/test_study_marts_recomputed.py), `municipality_population` (FOLK1A per
  quarter) and `case_fieldwork` (one row per case of the case register),
- the reference seeds (`dbt_project/seeds/*.csv`, through `samskab.common.reference.seed_rows`),
never the dbt SQL or an intermediate model, and compares every figure with the published mart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from samskab.common.reference import seed_rows

pytestmark = pytest.mark.end_to_end

# The cases were chosen from the 2016 survey (dbt var case_selection_wave); its reference quarter is 2016K1.
SELECTION_WAVE = "2016"
REFERENCE_QUARTER = "2016K1"
N_PROPOSED = 5
N_PARTNER_TYPES = 8
N_ROLES = 5
# The answer categories the rules count, as the seeds name them, with the label that says why.
OFTEN = ("always_or_often", "Altid eller ofte")
HIGH_EXTENT = ("high_extent", "I høj grad")
YES, NO = ("yes", "Ja"), ("no", "Nej")
WRITTEN_POLICY_CUT = 0.5
PERCENT_RANKS = {
    "percent_rank_partner_breadth": "n_partner_types_often",
    "percent_rank_written_policy": "share_heads_written_policy",
    "percent_rank_roles": "n_roles_high_extent",
    "percent_rank_population": "population",
}
TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------------
# Reading the published file and the seeds
# --------------------------------------------------------------------------------------------------


def read_published(lake: Path, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
    connection = duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True)
    try:
        return connection.execute(sql, parameters or []).df()
    finally:
        connection.close()


def regions() -> pd.Series:
    """Region code per municipality code, from the municipality seed."""
    rows = pd.DataFrame(seed_rows("municipalities"))
    return pd.Series(rows["regionskode"].astype(int).to_numpy(), index=rows["kommunekode"].astype(int).to_numpy())


def test_counted_categories_are_the_seeds_top_categories() -> None:
    """The categories the typology counts exist in answer_categories with the labels the rules name,
    and 'high_extent' is the top of the extent scale."""
    names = {row["answer_category"]: row["answer_category_name_da"] for row in seed_rows("answer_categories")}
    for key, label in (OFTEN, HIGH_EXTENT, YES, NO):
        assert names[key] == label
    extent = [row for row in seed_rows("answer_scales") if row["scale_id"] == "extent"]
    assert min(extent, key=lambda row: int(row["sort_order"]))["answer_category"] == HIGH_EXTENT[0]
    items = pd.DataFrame(seed_rows("study_items"))
    assert (items["item_list"] == "partner_types").sum() == N_PARTNER_TYPES
    assert (items["item_list"] == "municipal_roles").sum() == N_ROLES


# --------------------------------------------------------------------------------------------------
# The rules, in pandas
# --------------------------------------------------------------------------------------------------


def percent_rank(values: pd.Series) -> pd.Series:
    """SQL's percent_rank() among the non-null values: (rank - 1) / (n - 1), ties at the lowest rank."""
    present = values.dropna()
    ranks = (present.rank(method="min") - 1) / (len(present) - 1) if len(present) > 1 else present * 0.0
    return ranks.reindex(values.index)


def typology(answers: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Every municipality's measures, cuts, typology, size class and percent ranks, by the documented rules.

    `answers` are the selection wave's rows of survey_answers_labelled; `profile` holds the 98
    municipalities' population at the wave's reference quarter, indexed by municipality code.
    """
    valid = answers[answers["is_on_scale"] & ~answers["is_dont_know"]]
    partners = valid[valid["concept"] == "partner_frequency"]
    policy = valid[valid["concept"] == "written_policy"]
    roles = valid[valid["concept"] == "municipal_role"]

    frame = pd.DataFrame(index=profile.index)
    frame["region_code"] = regions().reindex(frame.index)
    frame["population"] = profile["population"].astype(float)

    often = partners[partners["answer_category"] == OFTEN[0]].groupby("municipality_code")["item_code"].nunique()
    frame["n_partner_types_often"] = often.reindex(frame.index).fillna(0)
    frame.loc[~frame.index.isin(partners["municipality_code"]), "n_partner_types_often"] = np.nan

    frame["n_heads_written_policy"] = (
        policy[policy["answer_category"] == YES[0]].groupby("municipality_code").size().reindex(frame.index).fillna(0)
    )
    frame["n_heads_written_policy_valid"] = policy.groupby("municipality_code").size().reindex(frame.index).fillna(0)
    frame["share_heads_written_policy"] = frame["n_heads_written_policy"] / frame[
        "n_heads_written_policy_valid"
    ].replace(0, np.nan)

    high = roles[roles["answer_category"] == HIGH_EXTENT[0]].groupby("municipality_code")["item_code"].nunique()
    frame["n_roles_high_extent"] = high.reindex(frame.index).fillna(0)
    frame.loc[~frame.index.isin(roles["municipality_code"]), "n_roles_high_extent"] = np.nan

    # medians over the municipalities with the measure (pandas skips nulls, as quantile_cont does)
    breadth_cut, roles_cut = frame["n_partner_types_often"].median(), frame["n_roles_high_extent"].median()
    frame["partner_breadth_cut"], frame["roles_cut"] = breadth_cut, roles_cut
    frame["is_broad"] = flag(frame["n_partner_types_often"], breadth_cut)
    frame["is_formalised"] = flag(frame["share_heads_written_policy"], WRITTEN_POLICY_CUT)
    frame["is_many_roles"] = flag(frame["n_roles_high_extent"], roles_cut)

    def code(row: pd.Series) -> str | None:
        parts = (row["is_broad"], row["is_formalised"], row["is_many_roles"])
        if any(part is None for part in parts):
            return None
        return "".join(f"{letter}{'+' if part else '-'}" for letter, part in zip("BFR", parts, strict=True))

    frame["typology_code"] = frame.apply(code, axis=1)

    lower, upper = frame["population"].quantile(1 / 3), frame["population"].quantile(2 / 3)

    def size_class(population: float) -> str | None:
        if pd.isna(population):
            return None
        return "small" if population < lower else "medium" if population < upper else "large"

    frame["size_class"] = frame["population"].map(size_class).astype(object)

    for rank_column, measure in PERCENT_RANKS.items():
        frame[rank_column] = percent_rank(frame[measure])
    return frame


def flag(values: pd.Series, cut: float) -> pd.Series:
    """values >= cut as True/False, None where the value is null."""
    return pd.Series(
        [None if pd.isna(value) else bool(value >= cut) for value in values], index=values.index, dtype=object
    )


def greedy_proposal(frame: pd.DataFrame, n: int = N_PROPOSED) -> list[tuple[int, int, float]]:
    """The documented maximum-variation rule, step by step: (municipality code, score, distance) per pick.

    Candidates have a typology and a size class. Score = 4 x new typology + 2 x new region + 1 x new
    size class; ties to the largest sum of absolute percent-rank differences to the chosen (first pick:
    the smallest distance to the 0.5 profile), then to the lowest code. Distances rounded to 9 decimals.
    """
    ranks = list(PERCENT_RANKS)
    candidates = frame[frame["typology_code"].notna() & frame["size_class"].notna()]
    chosen: list[int] = []
    picks: list[tuple[int, int, float]] = []
    while len(chosen) < n and len(chosen) < len(candidates):
        best: tuple | None = None
        for code, row in candidates.sort_index().iterrows():
            if code in chosen:
                continue
            picked = candidates.loc[chosen]
            score = (
                4 * (row["typology_code"] not in set(picked["typology_code"]))
                + 2 * (row["region_code"] not in set(picked["region_code"]))
                + 1 * (row["size_class"] not in set(picked["size_class"]))
            )
            if chosen:
                distance = round(float(sum((picked[ranks] - row[ranks]).abs().sum(axis=1))), 9)
                key = (-score, -distance, code)
            else:
                distance = round(float(sum(abs(row[rank] - 0.5) for rank in ranks)), 9)
                key = (-score, distance, code)
            if best is None or key < best[0]:
                best = (key, code, score, distance)
        assert best is not None
        chosen.append(best[1])
        picks.append((best[1], best[2], best[3]))
    return picks


# --------------------------------------------------------------------------------------------------
# The recomputation, once per module
# --------------------------------------------------------------------------------------------------


class Selection:
    """The published mart beside its pandas recomputation."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake
        self.mart = read_published(lake, "select * from case_selection").set_index("municipality_code").sort_index()
        self.answers = read_published(
            lake,
            "select municipality_code, sector_area_code, concept, item_code, answer_category, is_dont_know, "
            "is_on_scale from survey_answers_labelled where wave_id = ? "
            "and concept in ('partner_frequency', 'written_policy', 'municipal_role')",
            [SELECTION_WAVE],
        )
        self.profile = read_published(
            lake,
            "select municipality_code, population from municipality_population where population_quarter = ?",
            [REFERENCE_QUARTER],
        ).set_index("municipality_code")
        self.expected = typology(self.answers, self.profile.sort_index())
        self.proposal = greedy_proposal(self.expected)


@pytest.fixture(scope="module")
def selection(refreshed_lake) -> Selection:
    lake, _manifest, _report = refreshed_lake
    return Selection(lake)


def same(published: pd.Series, expected: pd.Series) -> list[tuple]:
    """(code, published, expected) for every value that differs; nulls equal nulls, numbers within tolerance."""
    differences = []
    for code in expected.index:
        left, right = published.get(code), expected.get(code)
        if pd.isna(left) and pd.isna(right):
            continue
        if isinstance(right, (int, float, np.integer, np.floating)) and not isinstance(right, bool):
            if pd.isna(left) or pd.isna(right) or abs(float(left) - float(right)) > TOLERANCE:
                differences.append((code, left, right))
        elif pd.isna(left) or pd.isna(right) or left != right:
            differences.append((code, left, right))
    return differences


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


def test_typology_size_and_ranks_equal_the_recomputation_for_all_98(selection: Selection) -> None:
    """Breadth, formalisation, roles, their cuts and high/low flags, the typology code, the size class
    and the four percent ranks of every municipality equal the pandas recomputation."""
    mart, expected = selection.mart, selection.expected
    assert len(mart) == 98 and mart.index.tolist() == expected.index.tolist()
    assert (mart["wave_id"] == SELECTION_WAVE).all()
    columns = [
        "n_partner_types_often",
        "n_heads_written_policy",
        "n_heads_written_policy_valid",
        "share_heads_written_policy",
        "n_roles_high_extent",
        "partner_breadth_cut",
        "roles_cut",
        "is_broad",
        "is_formalised",
        "is_many_roles",
        "typology_code",
        "size_class",
        *PERCENT_RANKS,
    ]
    differences = {column: same(mart[column], expected[column]) for column in columns}
    differences = {column: rows[:5] for column, rows in differences.items() if rows}
    assert not differences, f"published differs from recomputed (code, published, recomputed): {differences}"


def test_typology_is_null_exactly_where_a_measure_is_missing(selection: Selection) -> None:
    """A municipality with no responding head, or no valid answer to a dimension, has no typology and
    is never a candidate; every other municipality has one of the eight codes and a label in both
    languages."""
    mart = selection.mart
    # In the 2016 wave every municipality of the sample has a responding head; a municipality without one
    # would have no measure, and the line below would hold it to a null typology.
    no_heads = mart["n_heads_responding"] == 0
    assert mart.loc[no_heads, "typology_code"].isna().all()
    missing = mart[["n_partner_types_often", "share_heads_written_policy", "n_roles_high_extent"]].isna().any(axis=1)
    assert (mart["typology_code"].isna() == missing).all()
    assert (mart["is_proposal_candidate"] == mart["typology_code"].notna() & mart["size_class"].notna()).all()
    typed = mart[mart["typology_code"].notna()]
    assert typed["typology_label_da"].notna().all() and typed["typology_label_en"].notna().all()
    assert mart.loc[mart["typology_code"].isna(), ["typology_label_da", "typology_label_en"]].isna().all().all()
    # A responding head of the sample answers at least one question, so it appears in survey_answers_labelled.
    responding = read_published(
        selection.lake,
        "select municipality_code, count(distinct respondent_pseudonym) as n from survey_answers_labelled "
        "where wave_id = ? group by all",
        [SELECTION_WAVE],
    ).set_index("municipality_code")["n"]
    assert mart["n_heads_responding"].tolist() == responding.reindex(mart.index).fillna(0).astype(int).tolist()


def test_size_classes_are_population_terciles(selection: Selection) -> None:
    """The 98 fall into three near-equal size classes ordered by population."""
    mart = selection.mart
    counts = mart["size_class"].value_counts().to_dict()
    assert sorted(counts) == ["large", "medium", "small"] and max(counts.values()) - min(counts.values()) <= 1
    by_class = mart.groupby("size_class")["population"]
    assert by_class.max()["small"] < by_class.min()["medium"] and by_class.max()["medium"] < by_class.min()["large"]


def test_greedy_rule_proposes_the_same_five_in_the_same_order(selection: Selection) -> None:
    """The pandas re-implementation of the maximum-variation rule picks the mart's five, in its order,
    with the same score and tie-break distance at each step."""
    proposed = selection.mart[selection.mart["is_proposed"]].sort_values("proposal_rank")
    assert proposed["proposal_rank"].tolist() == list(range(1, N_PROPOSED + 1))
    assert selection.mart.loc[~selection.mart["is_proposed"], "proposal_rank"].isna().all()
    published = list(
        zip(proposed.index, proposed["proposal_score"].astype(int), proposed["proposal_distance"], strict=True)
    )
    assert [code for code, _, _ in published] == [code for code, _, _ in selection.proposal]
    assert [score for _, score, _ in published] == [score for _, score, _ in selection.proposal]
    assert np.allclose([d for _, _, d in published], [d for _, _, d in selection.proposal], atol=TOLERANCE)


def test_the_five_differ_on_typology_region_and_size(selection: Selection) -> None:
    """As many distinct typologies among the five as the candidates allow (every typology is worth more
    than any region or size), all five regions when the typologies allow it, and every size class."""
    mart = selection.mart
    candidates = mart[mart["is_proposal_candidate"]]
    proposed = mart[mart["is_proposed"]]
    n_typologies = candidates["typology_code"].nunique()
    assert proposed["typology_code"].nunique() == min(N_PROPOSED, n_typologies)
    assert proposed["typology_code"].nunique() >= 4
    assert proposed["size_class"].nunique() == 3
    assert proposed["is_proposal_candidate"].all()


def test_rebuilding_the_model_gives_the_same_proposal_whatever_the_row_order(
    selection: Selection, refreshed_lake, tmp_path: Path
) -> None:
    """The model's compiled SQL, run twice on a copy of the warehouse (the second time with its inputs
    stored in reverse order), proposes the published five in the published order both times."""
    lake, _manifest, _report = refreshed_lake
    compiled = next((lake / "warehouse" / "dbt_target" / "compiled").rglob("marts/case_selection.sql"))
    copy = tmp_path / "warehouse.duckdb"  # the same file name: the compiled SQL names the catalog
    shutil.copyfile(lake / "warehouse" / "warehouse.duckdb", copy)
    if (lake / "warehouse" / "warehouse.duckdb.wal").exists():
        shutil.copyfile(lake / "warehouse" / "warehouse.duckdb.wal", tmp_path / "warehouse.duckdb.wal")
    published = selection.mart[selection.mart["is_proposed"]].sort_values("proposal_rank").index.tolist()
    connection = duckdb.connect(str(copy))
    try:
        sql = compiled.read_text(encoding="utf-8")
        proposal = "select municipality_code from ({}) where is_proposed order by proposal_rank"
        first = [row[0] for row in connection.execute(proposal.format(sql)).fetchall()]
        for table, key in (("reference.municipalities", "kommunekode"), ("raw.statbank_observations", "source_row")):
            connection.execute(f"create or replace table {table} as select * from {table} order by {key} desc")
        second = [row[0] for row in connection.execute(proposal.format(sql)).fetchall()]
    finally:
        connection.close()
    assert first == second == published


def test_study_cases_are_flagged_with_their_ids(selection: Selection) -> None:
    """Exactly the municipalities of the case register are study cases, each with its case id, and
    every one of them is placed among all 98."""
    cases = read_published(selection.lake, "select case_id, municipality_code from case_fieldwork")
    assert len(cases) > 0
    expected = cases.groupby("municipality_code")["case_id"].apply(lambda ids: ", ".join(sorted(ids)))
    mart = selection.mart
    flagged = mart[mart["is_study_case"]]
    assert sorted(flagged.index) == sorted(expected.index)
    assert flagged["case_id"].to_dict() == expected.to_dict()
    assert (flagged["n_study_cases"] == cases.groupby("municipality_code").size().reindex(flagged.index)).all()
    assert mart.loc[~mart["is_study_case"], "case_id"].isna().all()
    assert flagged["percent_rank_population"].notna().all()
