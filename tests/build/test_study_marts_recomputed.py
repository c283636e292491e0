"""Every figure of the study's survey marts, recomputed with pandas from the landing zone.

This is an independent second implementation of the documented survey rules. It reads only
- the SurveyXact exports as delivered (`landing/survey/<export>/dataset.csv`), never the warehouse,
- the reference seeds (`dbt_project/seeds/*.csv`, through `samskab.common.reference.seed_rows`),
and rebuilds, weighted and unweighted, what the published marts hold: response rates
(`survey_coverage`), the resubmission rule (`survey_resubmissions`), non-response weights
(`survey_weights`), every concept mart (shares per wave, sector area, item and answer category), the
concrete collaborations (`collaborations`) and the labelled answers (`survey_answers_labelled`).
Each mart is then compared with the recomputation as a set of rows. No dbt SQL and no intermediate
model is read; heads are matched between the two sides by (wave, municipality, sector area), since the
marts publish pseudonyms, not respondent ids.

The rules, as the project documents them:
1. A head is (wave, municipality, sector area); only the 98 municipalities of the seed count.
2. Of a head's records, the one that counts is the first after sorting by is_completed desc,
   is_answering desc, record time desc (close time, else modified, else created; nulls last),
   export desc, respondent id desc (as text).
3. A head responds when its counted record is completed or partial; eligibility is its status's.
4. Weights: frame = the wave's eligible heads, cells = region x sector area. Post-stratification when
   every cell has >= 3 responding heads, else raking (50 rounds, region then sector area, from 1).
5. Answers: the counted record's non-blank values of the wave's mapped variables, categorised by the
   variable's answer scale. Shares leave "don't know" out of the denominator; the grid is complete.

A last group of tests reads the planted truths of the embedded sample back from the marts.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from samskab.common.reference import seed_rows
from tests.lakes import REPO

HEAD = ["wave_id", "municipality_code", "sector_area_code"]
MIN_CELL_RESPONDING = 3
RAKING_ROUNDS = 50
ALL_SECTOR_AREAS_DA = "Alle sektorområder"
STATUS_COLUMNS = [f"stato_{code}" for code in range(1, 7)]
DEFAULT_RESPONDENT_ID_VARIABLE = "responde"
TOLERANCE = 1e-6
SEEDS = REPO / "dbt_project" / "seeds"


# --------------------------------------------------------------------------------------------------
# Reference seeds
# --------------------------------------------------------------------------------------------------


def seed(name: str) -> pd.DataFrame:
    """A seed as a frame of text, exactly as the CSV holds it."""
    return pd.DataFrame(seed_rows(name), dtype=object)


def is_true(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().eq("true")


def blank_to_int(values: pd.Series) -> pd.Series:
    """Text codes as nullable integers; a blank cell becomes <NA>."""
    return pd.to_numeric(values.replace("", np.nan), errors="raise").astype("Int64")


class Seeds:
    """The reference tables the rules need, typed once."""

    def __init__(self) -> None:
        statuses = seed("respondent_statuses")
        statuses["status_code"] = statuses["status_code"].astype(int)
        for flag in ("is_eligible", "is_answering", "is_completed"):
            statuses[flag] = is_true(statuses[flag])
        self.statuses = statuses[
            ["status_code", "status_key", "disposition", "is_eligible", "is_answering", "is_completed"]
        ]

        municipalities = seed("municipalities")
        # Statistics Denmark's classification file: a level-1 line opens a group, its municipalities follow.
        groups = pd.read_csv(SEEDS / "kommunegrupper.csv", sep=";", dtype=str, keep_default_na=False)
        groups["group_code"] = groups["KODE"].where(groups["NIVEAU"] == "1").ffill().astype(int)
        groups["group_name"] = groups["TITEL"].where(groups["NIVEAU"] == "1").ffill()
        groups = groups[groups["NIVEAU"] == "2"].set_index(groups["KODE"][groups["NIVEAU"] == "2"].astype(int))
        codes = municipalities["kommunekode"].astype(int)
        self.municipalities = pd.DataFrame(
            {
                "municipality_code": codes,
                "region_code": municipalities["regionskode"].astype(int),
                "region_name": municipalities["regionsnavn"],
                "municipality_group_code": groups.loc[codes, "group_code"].to_numpy(),
                "municipality_group_name": groups.loc[codes, "group_name"].to_numpy(),
            }
        )

        sectors = seed("sector_areas")
        self.sector_areas = pd.DataFrame(
            {
                "sector_area_code": sectors["sector_area_code"].astype(int),
                "sector_area_name_da": sectors["sector_area_name_da"],
            }
        )
        self.sector_area_codes = sorted(self.sector_areas["sector_area_code"])

        item_map = seed("survey_item_map")
        item_map["item_code"] = blank_to_int(item_map["item_code"])
        item_map["collaboration_slot"] = blank_to_int(item_map["collaboration_slot"])
        self.item_map = item_map[["wave_id", "variable_name", "concept", "item_code", "scale_id", "collaboration_slot"]]

        self.concepts = seed("study_concepts")
        items = seed("study_items")
        items["item_code"] = items["item_code"].astype(int)
        self.items = items

        scales = seed("answer_scales")
        scales["answer_code"] = scales["answer_code"].astype(int)
        scales["is_dont_know"] = is_true(scales["is_dont_know"])
        self.scales = scales[["scale_id", "answer_code", "answer_category", "is_dont_know"]]

        categories = seed("answer_categories")
        categories["is_dont_know"] = is_true(categories["is_dont_know"])
        self.categories = categories

        self.exports = seed("survey_exports")

    def item_names_da(self, item_list: str) -> dict[int, str]:
        items = self.items[self.items["item_list"] == item_list]
        return dict(zip(items["item_code"], items["item_name_da"], strict=True))

    def category_name_da(self, category: str) -> str:
        return self.categories.set_index("answer_category").loc[category, "answer_category_name_da"]


@pytest.fixture(scope="module")
def seeds() -> Seeds:
    return Seeds()


# --------------------------------------------------------------------------------------------------
# Reading the exports
# --------------------------------------------------------------------------------------------------


def export_entry(exports: pd.DataFrame, folder_name: str, data: pd.DataFrame) -> dict[str, str] | None:
    """The first line of `survey_exports` that matches the export (fnmatch on the name, no case)."""
    survey_ids = set(data["survey"]) if "survey" in data.columns else set()
    for entry in exports.to_dict("records"):
        pattern = entry["match_delivery"].strip()
        if pattern and not fnmatch.fnmatch(folder_name.lower(), pattern.lower()):
            continue
        survey_id = entry["match_survey_id"].strip()
        if survey_id and survey_id not in survey_ids:
            continue
        return entry
    return None


def parse_time(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", np.nan), format="%Y-%m-%d %H:%M:%S")


def read_exports(landing: Path, seeds: Seeds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every record of every mapped SurveyXact export, and their non-blank mapped answers.

    Returns (records, values): one row per record with its head, status and record time; one row per
    record and mapped variable whose value is not blank, with the value as text.
    """
    record_frames, value_frames = [], []
    for folder in sorted((landing / "survey").iterdir()):
        dataset = folder / "dataset.csv"
        if not dataset.is_file():
            continue
        data = pd.read_csv(dataset, sep="\t", encoding="utf-16", dtype=str, keep_default_na=False)
        entry = export_entry(seeds.exports, folder.name, data)
        assert entry is not None, f"export {folder.name} has no line in survey_exports"
        wave_id = entry["wave_id"]
        id_variable = entry["respondent_id_variable"] or DEFAULT_RESPONDENT_ID_VARIABLE

        ticks = data[STATUS_COLUMNS].eq("1")
        assert ticks.sum(axis=1).eq(1).all(), f"{folder.name}: a record without exactly one status"
        status_code = ticks.values.argmax(axis=1) + 1

        record_time = parse_time(data["closetim"])
        record_time = record_time.fillna(parse_time(data["modified"])).fillna(parse_time(data["created"]))

        records = pd.DataFrame(
            {
                "wave_id": wave_id,
                "export": folder.name,
                "respondent_id": data[id_variable],
                "municipality_code": pd.to_numeric(data[entry["municipality_variable"]], errors="coerce"),
                "sector_area_code": pd.to_numeric(data[entry["sector_area_variable"]], errors="coerce"),
                "status_code": status_code,
                "record_time": record_time,
            }
        )
        record_frames.append(records)

        mapped = seeds.item_map.loc[seeds.item_map["wave_id"] == wave_id, "variable_name"].tolist()
        missing = [variable for variable in mapped if variable not in data.columns]
        assert not missing, f"{folder.name}: mapped variables missing from the export: {missing}"
        long = (
            data[[id_variable, *mapped]]
            .rename(columns={id_variable: "respondent_id"})
            .melt(id_vars="respondent_id", var_name="variable_name", value_name="value")
        )
        long = long[long["value"].str.strip() != ""]
        long.insert(0, "export", folder.name)
        long.insert(0, "wave_id", wave_id)
        value_frames.append(long)
    return pd.concat(record_frames, ignore_index=True), pd.concat(value_frames, ignore_index=True)


# --------------------------------------------------------------------------------------------------
# Heads and the resubmission rule
# --------------------------------------------------------------------------------------------------


def rank_records(records: pd.DataFrame, seeds: Seeds) -> pd.DataFrame:
    """Every record of the 98 municipalities with its head's record count and its rank (1 = counted)."""
    known = records["municipality_code"].isin(seeds.municipalities["municipality_code"])
    ranked = records[known & records["sector_area_code"].notna()].copy()
    ranked["municipality_code"] = ranked["municipality_code"].astype(int)
    ranked["sector_area_code"] = ranked["sector_area_code"].astype(int)
    ranked = ranked.merge(seeds.statuses, on="status_code", how="left", validate="many_to_one")
    ranked = ranked.sort_values(
        ["is_completed", "is_answering", "record_time", "export", "respondent_id"],
        ascending=False,
        na_position="last",
        kind="mergesort",
    )
    ranked["record_rank"] = ranked.groupby(HEAD).cumcount() + 1
    ranked["n_head_records"] = ranked.groupby(HEAD)["respondent_id"].transform("size")
    return ranked.reset_index(drop=True)


def heads_from(ranked: pd.DataFrame, seeds: Seeds) -> pd.DataFrame:
    """One row per head: its counted record, status flags, region and municipality group."""
    heads = ranked[ranked["record_rank"] == 1].drop(columns="record_rank")
    heads = heads.merge(seeds.municipalities, on="municipality_code", how="left", validate="many_to_one")
    return heads.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Response rates
# --------------------------------------------------------------------------------------------------

COVERAGE_BREAKDOWNS = {
    "all": None,
    "region": "region_code",
    "municipality_group": "municipality_group_code",
    "sector_area": "sector_area_code",
}


def coverage_row(heads: pd.DataFrame) -> dict[str, object]:
    disposition = heads["disposition"]
    n_eligible = int(heads["is_eligible"].sum())
    n_complete = int((disposition == "complete").sum())
    n_partial = int((disposition == "partial").sum())
    return {
        "n_invited": len(heads),
        "n_ineligible": int((disposition == "ineligible").sum()),
        "n_eligible": n_eligible,
        "n_complete": n_complete,
        "n_partial": n_partial,
        "n_break_off": int((disposition == "break_off").sum()),
        "n_not_answered": int((disposition == "not_answered").sum()),
        "n_heads_with_other_records": int((heads["n_head_records"] > 1).sum()),
        "rr1_numerator": n_complete,
        "rr1_denominator": n_eligible,
        "rr1": n_complete / n_eligible if n_eligible else np.nan,
        "rr2_numerator": n_complete + n_partial,
        "rr2_denominator": n_eligible,
        "rr2": (n_complete + n_partial) / n_eligible if n_eligible else np.nan,
    }


def survey_coverage(heads: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for wave_id, wave in heads.groupby("wave_id"):
        for breakdown, column in COVERAGE_BREAKDOWNS.items():
            groups = [(np.nan, wave)] if column is None else list(wave.groupby(column))
            for group_code, group in groups:
                rows.append(
                    {"wave_id": wave_id, "breakdown": breakdown, "group_code": group_code, **coverage_row(group)}
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# Non-response weights
# --------------------------------------------------------------------------------------------------


def rake(frame: pd.DataFrame, responding: pd.DataFrame, rounds: int = RAKING_ROUNDS) -> pd.Series:
    """Raking weights of the responding heads to the frame's region and sector-area totals.

    Frame = eligible heads whose region and whose sector area each have at least one responding head.
    Every responding head starts at 1; each round scales to the region totals, then to the sector-area
    totals.
    """
    kept = frame[
        frame["region_code"].isin(responding["region_code"])
        & frame["sector_area_code"].isin(responding["sector_area_code"])
    ]
    region_target = kept.groupby("region_code").size()
    sector_target = kept.groupby("sector_area_code").size()
    weight = pd.Series(1.0, index=responding.index)
    for _ in range(rounds):
        region_sum = weight.groupby(responding["region_code"]).sum()
        weight = weight * responding["region_code"].map(region_target / region_sum)
        sector_sum = weight.groupby(responding["sector_area_code"]).sum()
        weight = weight * responding["sector_area_code"].map(sector_target / sector_sum)
    return weight


def survey_weights(heads: pd.DataFrame) -> pd.DataFrame:
    """One row per wave and responding eligible head, with its method, cell counts and weight."""
    cell = ["region_code", "sector_area_code"]
    out = []
    for _wave_id, wave in heads.groupby("wave_id"):
        frame = wave[wave["is_eligible"]]
        cells = frame.groupby(cell).agg(
            n_cell_heads=("is_answering", "size"), n_cell_responding=("is_answering", "sum")
        )
        responding = frame[frame["is_answering"]].merge(cells.reset_index(), on=cell, how="left")
        if (cells["n_cell_responding"] >= MIN_CELL_RESPONDING).all():
            responding["weighting_method"] = "post_stratification"
            responding["weight"] = responding["n_cell_heads"] / responding["n_cell_responding"]
        else:
            responding["weighting_method"] = "raking"
            responding["weight"] = rake(frame, responding)
        out.append(responding)
    columns = [*HEAD, "region_code", "weighting_method", "n_cell_heads", "n_cell_responding", "weight"]
    return pd.concat(out, ignore_index=True)[columns]


# --------------------------------------------------------------------------------------------------
# Answers of the counted records
# --------------------------------------------------------------------------------------------------


def counted_answers(heads: pd.DataFrame, values: pd.DataFrame, weights: pd.DataFrame, seeds: Seeds) -> pd.DataFrame:
    """One row per responding head and answered mapped variable, categorised by its answer scale."""
    responding = heads[heads["is_answering"]]
    answers = values.merge(
        responding[[*HEAD, "export", "respondent_id"]], on=["wave_id", "export", "respondent_id"], how="inner"
    )
    answers = answers.merge(seeds.item_map, on=["wave_id", "variable_name"], how="left", validate="many_to_one")
    answers["answer_code"] = answers["value"].str.strip().astype(int)
    answers = answers.merge(seeds.scales, on=["scale_id", "answer_code"], how="left", validate="many_to_one")
    answers["is_on_scale"] = answers["answer_category"].notna()
    answers["is_dont_know"] = answers["is_dont_know"].fillna(False).astype(bool)
    level = seeds.concepts.set_index("concept")["level"]
    answers["level"] = answers["concept"].map(level)
    answers = answers.merge(weights[[*HEAD, "weight"]], on=HEAD, how="left", validate="many_to_one")
    return answers


# --------------------------------------------------------------------------------------------------
# Concept marts
# --------------------------------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else np.nan


def item_figures(units: pd.DataFrame, categories: list[str]) -> list[dict[str, object]]:
    """The counts and shares of one item in one group: one dict per answer category.

    `units` are the on-scale answers to the item (one per head, or per head and collaboration slot).
    """
    dont_know = units[units["is_dont_know"]]
    valid = units[~units["is_dont_know"]]
    n_answered, w_answered = len(units), units["weight"].sum()
    n_dont_know, w_dont_know = len(dont_know), dont_know["weight"].sum()
    n_valid, w_valid = len(valid), valid["weight"].sum()
    figures = []
    for category in categories:
        in_category = valid[valid["answer_category"] == category]
        n_category, w_category = len(in_category), in_category["weight"].sum()
        figures.append(
            {
                "answer_category": category,
                "n_category": n_category,
                "n_valid": n_valid,
                "share": ratio(n_category, n_valid),
                "weighted_n_category": w_category,
                "weighted_n_valid": w_valid,
                "weighted_share": ratio(w_category, w_valid),
                "n_dont_know": n_dont_know,
                "n_answered": n_answered,
                "share_dont_know": ratio(n_dont_know, n_answered),
                "weighted_n_dont_know": w_dont_know,
                "weighted_n_answered": w_answered,
                "weighted_share_dont_know": ratio(w_dont_know, w_answered),
            }
        )
    return figures


def concept_grid(seeds: Seeds, wave_id: str, concept: dict[str, str]) -> tuple[dict, list[str]]:
    """A concept's items ({item_code: Danish name}; {None: concept name} for a single question) and
    the non-don't-know categories of the scales the wave's variables of the concept use."""
    item_map = seeds.item_map
    wave_map = item_map[(item_map["wave_id"] == wave_id) & (item_map["concept"] == concept["concept"])]
    scales = seeds.scales[seeds.scales["scale_id"].isin(wave_map["scale_id"]) & ~seeds.scales["is_dont_know"]]
    categories = list(dict.fromkeys(scales["answer_category"]))
    if concept["item_list"]:
        items = dict(sorted(seeds.item_names_da(concept["item_list"]).items()))
    else:
        items = {None: concept["concept_name_da"]}
    return items, categories


def concept_mart(mart: str, answers: pd.DataFrame, seeds: Seeds) -> pd.DataFrame:
    """The complete grid of one concept mart: wave x {all, sector area} x concept x item x category."""
    sector_names = seeds.sector_areas.set_index("sector_area_code")["sector_area_name_da"]
    groups = [("all", None)] + [("sector_area", code) for code in seeds.sector_area_codes]
    on_scale = answers[answers["is_on_scale"]]
    rows = []
    for wave_id in sorted(answers["wave_id"].unique()):
        for concept in seeds.concepts[seeds.concepts["mart"] == mart].to_dict("records"):
            items, categories = concept_grid(seeds, wave_id, concept)
            units = on_scale[(on_scale["wave_id"] == wave_id) & (on_scale["concept"] == concept["concept"])]
            for breakdown, sector in groups:
                in_group = units if sector is None else units[units["sector_area_code"] == sector]
                for item_code, item_name in items.items():
                    on_item = in_group["item_code"].isna() if item_code is None else in_group["item_code"] == item_code
                    for figures in item_figures(in_group[on_item], categories):
                        rows.append(
                            {
                                "wave_id": wave_id,
                                "breakdown": breakdown,
                                "sector_area_code": sector,
                                "concept": concept["concept"],
                                "item_code": item_code,
                                "sector_area_name_da": ALL_SECTOR_AREAS_DA if sector is None else sector_names[sector],
                                "unit": concept["level"],
                                "question_da": concept["question_da"],
                                "item_name_da": item_name,
                                "answer_category_name_da": seeds.category_name_da(figures["answer_category"]),
                                **figures,
                            }
                        )
    return pd.DataFrame(rows)


CONCEPT_MART_KEYS = ["wave_id", "breakdown", "sector_area_code", "concept", "item_code", "answer_category"]


def concept_marts() -> list[str]:
    """The marts of study_concepts that hold shares (all but the collaborations listing)."""
    marts = dict.fromkeys(row["mart"] for row in seed_rows("study_concepts"))
    return [mart for mart in marts if mart != "collaborations"]


# --------------------------------------------------------------------------------------------------
# Collaborations
# --------------------------------------------------------------------------------------------------

COLLABORATION_LISTS = {
    "collaboration_partner": ("n_partner_types", "partner_types_da"),
    "collaboration_topic": ("n_topics", "topics_da"),
    "collaboration_initiator": ("n_initiators", "initiators_da"),
}


def collaborations(answers: pd.DataFrame, seeds: Seeds) -> pd.DataFrame:
    """One row per wave, head and slot with an on-scale collaboration-level answer."""
    key = [*HEAD, "collaboration_slot"]
    level = answers[(answers["level"] == "collaboration") & answers["is_on_scale"]]
    out = level.groupby(key, as_index=False).agg(weight=("weight", "first"))
    item_lists = seeds.concepts.set_index("concept")["item_list"]
    for concept, (count_column, names_column) in COLLABORATION_LISTS.items():
        names = seeds.item_names_da(item_lists[concept])
        selected = level[(level["concept"] == concept) & (level["answer_category"] == "selected")].copy()
        selected["item_name_da"] = selected["item_code"].astype(int).map(names)
        listed = (
            selected.sort_values("item_code")
            .groupby(key)
            .agg(**{count_column: ("item_code", "size"), names_column: ("item_name_da", "; ".join)})
            .reset_index()
        )
        out = out.merge(listed, on=key, how="left")
        out[count_column] = out[count_column].fillna(0).astype(int)
    out["has_several_partner_types"] = out["n_partner_types"] >= 2
    return out


# --------------------------------------------------------------------------------------------------
# Comparing a recomputation with a published mart
# --------------------------------------------------------------------------------------------------


def read_mart(lake: Path, sql: str) -> pd.DataFrame:
    connection = duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True)
    try:
        return connection.sql(sql).df()
    finally:
        connection.close()


def normalise(frame: pd.DataFrame, numeric: Iterable[str]) -> pd.DataFrame:
    """Numeric columns as float (NULL -> NaN), every other column as text (NULL -> None)."""
    frame = frame.copy()
    numeric = set(numeric)
    for column in frame.columns:
        if column in numeric:
            frame[column] = pd.to_numeric(frame[column]).astype(float)
        else:
            frame[column] = [None if pd.isna(value) else str(value) for value in frame[column]]
    return frame


def plain(values: Iterable) -> tuple:
    """A key as plain Python values, for messages and set comparison: NaN -> None, 3.0 -> 3."""
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, float) and value.is_integer():
            out.append(int(value))
        else:
            out.append(value.item() if isinstance(value, np.generic) else value)
    return tuple(out)


def assert_same_rows(expected: pd.DataFrame, published: pd.DataFrame, keys: list[str], name: str) -> None:
    """The published mart holds exactly the recomputed rows (a set: order ignored, NULL = NaN/None).

    Fails with the first differences spelled out: keys only on one side, and (key, column, recomputed,
    published) for every value that differs by more than the tolerance.
    """
    columns = list(expected.columns)
    missing = [column for column in columns if column not in published.columns]
    assert not missing, f"{name}: the mart has no columns {missing}"
    published = published[columns]
    numeric = [
        column
        for column in columns
        if pd.api.types.is_numeric_dtype(expected[column]) or pd.api.types.is_numeric_dtype(published[column])
    ]
    left, right = normalise(expected, numeric), normalise(published, numeric)
    for side, frame in (("recomputed", left), ("published", right)):
        duplicated = frame[frame.duplicated(keys, keep=False)]
        assert duplicated.empty, f"{name}: {side} rows repeat a key {keys}:\n{duplicated.head(10)}"

    def key_tuples(frame: pd.DataFrame) -> set[tuple]:
        return {plain(row) for row in frame[keys].itertuples(index=False)}

    only_recomputed = key_tuples(left) - key_tuples(right)
    only_published = key_tuples(right) - key_tuples(left)
    assert not only_recomputed and not only_published, (
        f"{name}: the row keys differ ({len(left)} recomputed, {len(right)} published)\n"
        f"  only recomputed ({len(only_recomputed)}): {sorted(only_recomputed, key=str)[:10]}\n"
        f"  only published ({len(only_published)}): {sorted(only_published, key=str)[:10]}"
    )

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        order = frame[keys].astype(str)
        return frame.loc[order.sort_values(keys).index].reset_index(drop=True)

    left, right = ordered(left), ordered(right)
    differences = []
    for column in columns:
        if column in keys:
            continue
        a, b = left[column], right[column]
        if column in numeric:
            same = (a.isna() & b.isna()) | np.isclose(a, b, rtol=0, atol=TOLERANCE)
        else:
            same = (a.isna() & b.isna()) | (a == b)
        for index in np.flatnonzero(~same.to_numpy()):
            differences.append((plain(left.loc[index, keys]), column, *plain([a.iloc[index], b.iloc[index]])))
    listed = "\n".join(f"  {difference}" for difference in differences[:25])
    assert not differences, f"{name}: {len(differences)} values differ (key, column, recomputed, published):\n{listed}"
    pd.testing.assert_frame_equal(left, right, check_dtype=False, atol=TOLERANCE, rtol=0)


# --------------------------------------------------------------------------------------------------
# The recomputation, once per module
# --------------------------------------------------------------------------------------------------


class Study:
    """Everything recomputed from the landing zone, plus where the published file is."""

    def __init__(self, lake: Path, seeds: Seeds) -> None:
        self.lake = lake
        records, values = read_exports(lake / "landing", seeds)
        self.records = records
        self.ranked = rank_records(records, seeds)
        self.heads = heads_from(self.ranked, seeds)
        self.weights = survey_weights(self.heads)
        self.answers = counted_answers(self.heads, values, self.weights, seeds)

    def mart(self, sql: str) -> pd.DataFrame:
        return read_mart(self.lake, sql)


@pytest.fixture(scope="module")
def study(refreshed_lake, seeds: Seeds) -> Study:
    lake, _manifest, _report = refreshed_lake
    return Study(lake, seeds)


# --------------------------------------------------------------------------------------------------
# Tests: the marts equal the recomputation
# --------------------------------------------------------------------------------------------------


def test_exports_are_read_as_two_waves_of_whole_heads(study: Study) -> None:
    """The landing zone's exports map to waves 2016 and 2019, every record names a known municipality
    and sector area, and each wave invites the 98 x 8 heads (resubmissions are extra records)."""
    assert sorted(study.records["wave_id"].unique()) == ["2016", "2019"]
    assert len(study.ranked) == len(study.records), "records outside the 98 municipalities or sector areas"
    per_wave = study.heads.groupby("wave_id").size().to_dict()
    assert per_wave == {"2016": 98 * 8, "2019": 98 * 8}
    assert (study.heads["n_head_records"] > 1).any(), "the sample should hold resubmissions"


def test_survey_resubmissions_follow_the_rule(study: Study) -> None:
    """survey_resubmissions lists exactly the records of heads with several records, and flags as
    counted the record the documented sort (completed, answering, latest, export, id) puts first."""
    several = study.ranked[study.ranked["n_head_records"] > 1]
    expected = pd.DataFrame(
        {
            **{column: several[column] for column in HEAD},
            "export_id": several["export"],
            "record_time": several["record_time"].astype(str),
            "status_key": several["status_key"],
            "n_head_records": several["n_head_records"],
            "record_rank": several["record_rank"],
            "is_counted": several["record_rank"] == 1,
        }
    )
    published = study.mart(
        "select wave_id, municipality_code, sector_area_code, export_id, cast(record_time as varchar) as record_time,"
        " status_key, n_head_records, record_rank, is_counted from survey_resubmissions"
    )
    assert_same_rows(expected, published, [*HEAD, "export_id", "record_time"], "survey_resubmissions")


def test_survey_coverage_equals_recomputed_response_rates(study: Study) -> None:
    """Every count and AAPOR rate of survey_coverage (wave x all/region/municipality group/sector
    area) equals the one recomputed from each head's counted record."""
    expected = survey_coverage(study.heads)
    published = study.mart("select * from survey_coverage")
    assert_same_rows(expected, published, ["wave_id", "breakdown", "group_code"], "survey_coverage")


def test_weighting_method_per_wave_follows_the_cell_rule(study: Study) -> None:
    """Each wave is weighted by post-stratification exactly when every region x sector-area cell of
    its frame has at least 3 responding heads, else by raking; the mart uses one method per wave."""
    published = study.mart("select distinct wave_id, weighting_method from survey_weights")
    assert not published["wave_id"].duplicated().any(), "one weighting method per wave"
    expected = study.weights[["wave_id", "weighting_method"]].drop_duplicates()
    assert dict(zip(published["wave_id"], published["weighting_method"], strict=True)) == dict(
        zip(expected["wave_id"], expected["weighting_method"], strict=True)
    )


def test_survey_weights_equal_recomputed_weights(study: Study) -> None:
    """survey_weights has one row per responding eligible head with the recomputed region, method,
    cell counts and weight (post-stratification or 50 rounds of raking)."""
    published = study.mart(
        "select wave_id, municipality_code, sector_area_code, region_code, weighting_method,"
        " n_cell_heads, n_cell_responding, weight from survey_weights"
    )
    assert_same_rows(study.weights, published, HEAD, "survey_weights")


def test_raking_reaches_the_frame_margins(study: Study) -> None:
    """The test's own raking function, on every wave of the sample, gives weights whose region and
    sector-area sums equal the totals of the (collapsed) frame: a check of the helper itself."""
    for _wave_id, wave in study.heads.groupby("wave_id"):
        frame = wave[wave["is_eligible"]]
        responding = frame[frame["is_answering"]]
        weight = rake(frame, responding)
        kept = frame[
            frame["region_code"].isin(responding["region_code"])
            & frame["sector_area_code"].isin(responding["sector_area_code"])
        ]
        sector_sums = weight.groupby(responding["sector_area_code"]).sum()
        region_sums = weight.groupby(responding["region_code"]).sum()
        assert np.allclose(sector_sums, kept.groupby("sector_area_code").size().loc[sector_sums.index])
        assert np.allclose(region_sums, kept.groupby("region_code").size().loc[region_sums.index], rtol=1e-4)


@pytest.mark.parametrize("mart", concept_marts())
def test_concept_mart_equals_recomputed_shares(study: Study, seeds: Seeds, mart: str) -> None:
    """Every row of the concept mart (complete grid: wave x all/sector area x concept x item x
    category) has the recomputed counts, shares, weighted counts and shares, and don't-know figures."""
    expected = concept_mart(mart, study.answers, seeds)
    assert not expected.empty
    published = study.mart(f"select * from {mart}")
    assert_same_rows(expected, published, CONCEPT_MART_KEYS, mart)


def test_collaborations_equal_recomputed_collaborations(study: Study, seeds: Seeds) -> None:
    """collaborations has one row per wave, responding head and described collaboration slot, with
    the recomputed number and Danish names of partner types, topics and initiators, and the weight."""
    expected = collaborations(study.answers, seeds)
    published = study.mart(
        "select wave_id, municipality_code, sector_area_code, collaboration_slot, weight, n_partner_types,"
        " partner_types_da, n_topics, topics_da, n_initiators, initiators_da, has_several_partner_types"
        " from collaborations"
    )
    assert_same_rows(expected, published, [*HEAD, "collaboration_slot"], "collaborations")


def test_survey_answers_labelled_equal_recomputed_answers(study: Study) -> None:
    """survey_answers_labelled holds one row per responding head and answered mapped variable: the
    rows per (wave, concept) and per (wave, concept, answer category) match, and so does every single
    answer (matched by wave, municipality, sector area and variable)."""
    answers = study.answers
    published = study.mart(
        "select wave_id, municipality_code, sector_area_code, variable_name, concept, item_code,"
        " collaboration_slot, scale_id, answer_code, answer_category, is_dont_know, is_on_scale, weight"
        " from survey_answers_labelled"
    )

    def counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        return frame.groupby(by, dropna=False).size().rename("n_rows").reset_index()

    for by in (["wave_id", "concept"], ["wave_id", "concept", "answer_category"]):
        assert_same_rows(counts(answers, by), counts(published, by), by, f"survey_answers_labelled rows per {by}")

    columns = list(published.columns)
    assert_same_rows(answers[columns], published, [*HEAD, "variable_name"], "survey_answers_labelled")


# --------------------------------------------------------------------------------------------------
# Tests: the planted truths of the embedded sample, read from the marts
# --------------------------------------------------------------------------------------------------


def test_planted_increased_focus(study: Study) -> None:
    """82% (+- 3 points) of the 2016 heads who answer yes or no report an increased focus."""
    share = study.mart(
        "select share from collaboration_focus where wave_id = '2016' and breakdown = 'all'"
        " and concept = 'increased_focus' and answer_category = 'yes'"
    )["share"]
    assert len(share) == 1
    assert share.iloc[0] == pytest.approx(0.82, abs=0.03)


def test_planted_saving_money_is_a_rare_motive(study: Study, seeds: Seeds) -> None:
    """About 1 in 20 heads name saving money as a motive: between 3% and 8% in each wave."""
    motives = seeds.items[seeds.items["item_list"] == "motives"]
    code = int(motives.loc[motives["item_name_en"] == "Saving money", "item_code"].squeeze())
    shares = study.mart(
        f"select wave_id, share from motives where breakdown = 'all' and item_code = {code}"
        " and answer_category = 'selected' order by wave_id"
    )
    assert shares["wave_id"].tolist() == ["2016", "2019"]
    for wave_id, share in zip(shares["wave_id"], shares["share"], strict=True):
        assert 0.03 <= share <= 0.08, f"saving money in {wave_id}: {share}"


def test_planted_more_collaboration_in_operation_than_in_policy(study: Study, seeds: Seeds) -> None:
    """In each wave more heads collaborate to a high extent in operation than in policy and planning."""
    phases = seeds.items[seeds.items["item_list"] == "collaboration_phases"]
    code = dict(zip(phases["item_name_en"], phases["item_code"], strict=True))
    shares = study.mart(
        "select wave_id, item_code, share from collaboration_phases where breakdown = 'all'"
        " and answer_category = 'high_extent'"
    ).pivot(index="wave_id", columns="item_code", values="share")
    assert len(shares) == 2
    for wave_id, row in shares.iterrows():
        assert row[code["Operation"]] > row[code["Policy and planning"]], f"wave {wave_id}: {row.to_dict()}"


def test_planted_half_the_heads_answer_in_2016(study: Study) -> None:
    """About half of the eligible heads answer in 2016: RR2 of the whole country between 45% and 65%."""
    rr2 = study.mart("select rr2 from survey_coverage where wave_id = '2016' and breakdown = 'all'")["rr2"]
    assert len(rr2) == 1
    assert 0.45 <= rr2.iloc[0] <= 0.65


def item_codes(seeds: Seeds, item_list: str) -> dict[str, int]:
    """English item name -> item code of one study item list."""
    items = seeds.items[seeds.items["item_list"] == item_list]
    return dict(zip(items["item_name_en"], items["item_code"], strict=True))


def test_planted_shape_of_the_concrete_collaborations(study: Study, seeds: Seeds) -> None:
    """Two thirds of the collaborations have several partner types, associations seldom take the
    initiative (the municipality mostly does), and health, integration and social issues are the
    commonest topics, in each wave."""
    several = study.mart("select wave_id, avg(has_several_partner_types::int) as share from collaborations group by 1")
    for wave_id, share in zip(several["wave_id"], several["share"], strict=True):
        assert share == pytest.approx(2 / 3, abs=0.07), f"several partners in {wave_id}: {share}"
    initiators = item_codes(seeds, "initiators")
    initiative = study.mart(
        "select wave_id, item_code, share from collaboration_partners where breakdown = 'all'"
        " and concept = 'collaboration_initiator' and answer_category = 'selected'"
    ).pivot(index="wave_id", columns="item_code", values="share")
    for wave_id, row in initiative.iterrows():
        assert row[initiators["Associations"]] < 0.15 < row[initiators["The municipality"]], f"wave {wave_id}"
    topics = item_codes(seeds, "collaboration_topics")
    ranked = study.mart(
        "select wave_id, item_code, share from collaboration_topics where breakdown = 'all'"
        " and answer_category = 'selected' order by wave_id, share desc"
    )
    for wave_id, rows in ranked.groupby("wave_id"):
        top_three = set(rows["item_code"].head(3))
        assert top_three == {topics["Health"], topics["Integration"], topics["Social issues"]}, f"wave {wave_id}"


def test_planted_barriers_lie_mostly_inside_the_municipalitys_own_organisation(study: Study, seeds: Seeds) -> None:
    """The municipality's own organisation is, in each wave, the barrier most heads call a high one."""
    barriers = item_codes(seeds, "barriers")
    ranked = study.mart(
        "select wave_id, item_code, share from barriers where breakdown = 'all'"
        " and answer_category = 'high_extent' order by wave_id, share desc"
    )
    for wave_id, rows in ranked.groupby("wave_id"):
        assert rows["item_code"].iloc[0] == barriers["The municipality's own organisation"], f"wave {wave_id}"
