"""The quality gate on small hand-built tables, with the real Great Expectations.

GX takes about ten seconds to import; the gate imports it once per process and keeps one
context, so every test after the first validates in a fraction of a second.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from flows.quality import gate
from flows.reference import seed_column
from flows.sources.statbank import OBSERVATIONS
from flows.sources.statbank_format import MISSING_MARKERS

REPO_ROOT = Path(__file__).resolve().parents[1]

RAW_SUITES = [
    "raw_case_studies",
    "raw_fieldwork_activities",
    "raw_statbank_observations",
    "raw_survey_answers",
    "raw_survey_respondents",
]
MART_SUITES = ["case_fieldwork", "municipality_profile", "partner_collaboration", "survey_coverage", "survey_weights"]

# Values that only ever sit in cells of the test tables; none may surface in the gate's words.
PSEUDONYM = "pseud-q7x3k9"
EMAIL = "mail-z8w2v4"
EXPORT = "export-r5t1"
UNKNOWN_MUNICIPALITY = 999


def _municipality_codes() -> list[int]:
    return seed_column("municipalities", "kommunekode")


def _is_statbank_marker_set(value_set: object) -> bool:
    """The one value set a suite may type out: Statbank's markers of a missing figure, which no seed lists."""
    return value_set == list(MISSING_MARKERS)


def statbank_observations(rows: list[tuple]) -> pd.DataFrame:
    """A raw.statbank_observations table, with the reader's columns and types, from rows of
    (table_id, area_code, area_level, municipality_code, time_code, dimensions, dimensions_at_total,
    value, value_marker); the other columns are filled as the reader fills them."""
    given = [
        "table_id",
        "area_code",
        "area_level",
        "municipality_code",
        "time_code",
        "dimensions",
        "dimensions_at_total",
        "value",
        "value_marker",
    ]
    frame = pd.DataFrame(rows, columns=given)
    in_a_region = frame["area_level"].isin(["region", "municipality"])
    frame["area_variable"] = "OMRÅDE"
    frame["region_code"] = pd.array([1081 if inside else None for inside in in_a_region], dtype="Int64")
    frame["landsdel_code"] = pd.array(
        [11 if level == "municipality" else None for level in frame["area_level"]], dtype="Int64"
    )
    frame["municipality_code"] = frame["municipality_code"].astype("Int64")
    frame["period_type"] = ["quarter" if "K" in code else "year" for code in frame["time_code"]]
    frame["period_start_date"] = pd.to_datetime(["2016-01-01"] * len(frame))
    frame["dimensions_at_total"] = frame["dimensions_at_total"].astype("boolean")
    frame["value"] = frame["value"].astype("float64")
    frame["value_presentation"] = "code"
    frame["answer_format"] = "CSV"
    frame["retrieved_at"] = pd.Timestamp("2026-11-26 03:00")
    frame["source_file"] = "statbank/api/FOLK1A_20261126T030000Z.csv"
    frame["source_row"] = list(range(2, len(frame) + 2))
    return frame[[*OBSERVATIONS.column_names, "source_file", "source_row"]]


def respondents(n: int = 4, **overrides: list) -> pd.DataFrame:
    """A valid raw.survey_respondents table of `n` rows; keyword arguments replace columns."""
    started = pd.Timestamp("2016-03-01 09:00")
    columns = {
        "export_id": [EXPORT] * n,
        "respondent_id": list(range(1, n + 1)),
        "municipality_code": [101, 147, 851, 461][:n] + [101] * max(0, n - 4),
        "sector_area_code": [(i % 8) + 1 for i in range(n)],
        "status_code": [(i % 5) + 1 for i in range(n)],
        "created_at": [started - pd.Timedelta(days=7)] * n,
        "started_at": [started] * n,
        "closed_at": [started + pd.Timedelta(hours=1)] * n,
        "modified_at": [started + pd.Timedelta(hours=2)] * n,
        "respondent_name_pseudonym": [f"{PSEUDONYM}-{i}" for i in range(n)],
        "email_pseudonym": [f"{EMAIL}-{i}" for i in range(n)],
        "wave_id": ["2016"] * n,
        "area_level": ["municipality"] * n,
        "status_rule": ["status variables (statoverall)"] * n,
        "source_file": ["dataset.csv"] * n,
        "source_row": list(range(2, n + 2)),
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


def good_frames() -> dict[str, pd.DataFrame]:
    """One small valid table per suite."""
    codes = _municipality_codes()
    profile = pd.DataFrame(
        {
            "municipality_code": codes,
            "municipality_name": [f"kommune {c}" for c in codes],
            "region_code": [1081] * 98,
            "region_name": ["Region Nordjylland"] * 98,
            "population": [50_000] * 98,
            "population_quarter": ["2016K1"] * 98,
            "n_sector_areas_invited": [8] * 98,
            "n_sector_areas_answering": [i % 9 for i in range(98)],
        }
    )
    profile["share_sector_areas_answering"] = profile["n_sector_areas_answering"] / profile["n_sector_areas_invited"]
    groups = [("all", None)] + [("region", code) for code in range(1081, 1086)]
    groups += [("municipality_group", code) for code in range(1, 6)] + [("sector_area", code) for code in range(1, 9)]
    coverage = pd.DataFrame(
        [
            {
                "wave_id": "2016",
                "breakdown": breakdown,
                "group_code": code,
                "n_eligible": 20,
                "rr1_numerator": 8,
                "rr1": 0.4,
                "rr2_numerator": 10,
                "rr2": 0.5,
            }
            for breakdown, code in groups
        ]
    )
    partners = pd.DataFrame(
        [
            {
                "wave_id": "2016",
                "breakdown": "sector_area",
                "sector_area_code": sector,
                "item_code": partner,
                "answer_category": category,
                "n_category": 2,
                "n_valid": 8 if partner != 8 else 0,
                "share": 0.25 if partner != 8 else None,
                "weighted_share": 0.3 if partner != 8 else None,
                "share_dont_know": 0.2,
            }
            for sector in range(1, 9)
            for partner in range(1, 9)
            for category in ("always_or_often", "sometimes", "seldom", "never")
        ]
    )
    partners.loc[partners["item_code"] == 8, "n_category"] = 0
    weights = pd.DataFrame(
        {
            "wave_id": ["2016"] * 3,
            "municipality_code": [101, 101, 147],
            "sector_area_code": [1, 2, 1],
            "weighting_method": ["post_stratification"] * 3,
            "weight": [1.5, 2.0, 1.25],
        }
    )
    return {
        "raw_survey_respondents": respondents(),
        "raw_survey_answers": pd.DataFrame(
            {
                "export_id": [EXPORT] * 4,
                "respondent_id": [1, 1, 2, 2],
                "variable_name": ["q1", "q2", "q1", "q2"],
                "answer_value": ["0", "9", "4", "135.407"],
                "source_file": ["dataset.csv"] * 4,
                "source_row": [2, 2, 3, 3],
            }
        ),
        "raw_statbank_observations": statbank_observations(
            [
                ("FOLK1A", "000", "country", None, "2016K1", '{"KØN": "TOT"}', True, 5_700_000, None),
                ("FOLK1A", "081", "region", None, "2016K1", '{"KØN": "TOT"}', True, 585_000, None),
                ("FOLK1A", "825", "municipality", 825, "2016K1", '{"KØN": "TOT"}', True, 1_800, None),
                ("FOLK1A", "825", "municipality", 825, "2016K1", '{"KØN": "2"}', False, 900, None),
                ("FOLK1A", "411", "outside_municipalities", None, "2016K1", '{"KØN": "TOT"}', True, 87, None),
                ("ARE207", "825", "municipality", 825, "2016", "{}", True, 114.3, None),
                ("ARE207", "411", "outside_municipalities", None, "2016", "{}", True, None, ".."),
            ]
        ),
        "raw_case_studies": pd.DataFrame(
            {
                "case_id": ["case-1", "case-2"],
                "municipality_code": [101, 851],
                "effort_title": ["effort one", "effort two"],
                "knowledge_area": ["children_youth", "social_health"],
                "fieldwork_start_date": pd.to_datetime(["2016-09-01", "2016-10-01"]),
                "fieldwork_end_date": pd.to_datetime(["2016-12-01", None]),
                "source_file": ["cases.csv"] * 2,
                "source_row": [2, 3],
            }
        ),
        "raw_fieldwork_activities": pd.DataFrame(
            {
                "activity_id": ["act-1", "act-2", "act-3"],
                "case_id": ["case-1", "case-1", "case-2"],
                "activity_type": ["individual_interview", "group_interview", "desk_research"],
                "activity_date": pd.to_datetime(["2016-09-05", "2016-09-06", "2016-10-02"]),
                "duration_minutes": [60, 90, None],
                "n_participants": [1, 6, None],
                "informant_ids": ["case-1-I1", "case-1-I2, case-1-I3", None],
                "consent_status": ["given", "given", "not_needed"],
                "has_recording": [True, False, False],
                "transcript_status": ["done", "not_applicable", "not_applicable"],
                "source_file": ["fieldwork.csv"] * 3,
                "source_row": [2, 3, 4],
            }
        ),
        "municipality_profile": profile,
        "survey_coverage": coverage,
        "partner_collaboration": partners,
        "survey_weights": weights,
        "case_fieldwork": pd.DataFrame(
            {
                "case_id": ["case-1", "case-2"],
                "municipality_code": [101, 851],
                "municipality_name": ["København", "Aalborg"],
                "effort_title": ["effort one", "effort two"],
                "knowledge_area": ["children_youth", "social_health"],
                "n_activities": [3, 1],
                "n_participants": [3, 0],
                "n_interviews": [2, 0],
                "n_interviews_with_consent": [2, 0],
                "consent_coverage": [1.0, None],
            }
        ),
    }


def failed(verdict: gate.SuiteVerdict, check: str, column: str | None) -> gate.CheckOutcome:
    matches = [o for o in verdict.outcomes if not o.success and o.check == check and o.column == column]
    assert len(matches) == 1, f"expected one failed {check} on {column}, got {verdict.outcomes}"
    return matches[0]


def all_words(verdicts: list[gate.SuiteVerdict]) -> str:
    fields = [
        str(value)
        for verdict in verdicts
        for outcome in verdict.outcomes
        for value in dataclasses.asdict(outcome).values()
    ]
    return "\n".join([*fields, gate.describe_failures(verdicts)])


def test_importing_the_gate_does_not_import_great_expectations():
    code = "import sys, flows.quality.gate; sys.exit('great_expectations' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False)
    assert completed.returncode == 0


def test_suite_names_list_the_raw_and_mart_suites():
    assert gate.suite_names("raw") == RAW_SUITES
    assert gate.suite_names("marts") == MART_SUITES
    with pytest.raises(ValueError):
        gate.suite_names("staging")


def test_suite_table_names_the_guarded_table():
    assert gate.suite_table("raw_survey_respondents") == "raw.survey_respondents"
    assert gate.suite_table("municipality_profile") == "main.municipality_profile"
    with pytest.raises(KeyError):
        gate.suite_table("no_such_suite")


def test_every_suite_json_loads_and_every_expectation_has_severity_and_description():
    files = sorted(gate.expectations_dir().glob("*.json"))
    assert [f.stem for f in files] == sorted(RAW_SUITES + MART_SUITES)
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["meta"]["stage"] in ("raw", "marts")
        assert document["meta"]["table"].split(".")[0] in ("raw", "main")
        assert document["expectations"], path.name
        for expectation in document["expectations"]:
            assert expectation["meta"]["severity"] in ("blocking", "warning"), path.name
            assert expectation["meta"]["description"].strip(), path.name
        # The committed JSON is a GX 1.x suite: GX reads it back to the same expectations.
        suite = gate.load_suite(path.stem)
        assert [e.expectation_type for e in suite.expectations] == [e["type"] for e in document["expectations"]]


def test_municipality_code_sets_of_the_suites_are_the_seeds_98_codes_without_christianso():
    codes = _municipality_codes()
    assert len(codes) == len(set(codes)) == 98 and 411 not in codes
    regions = collections.Counter(seed_column("municipalities", "regionsnavn"))
    assert sorted(regions.values()) == [11, 17, 19, 22, 29]
    for name in ("municipality_profile", "raw_case_studies", "raw_survey_respondents", "raw_statbank_observations"):
        committed = json.loads((gate.expectations_dir() / f"{name}.json").read_text(encoding="utf-8"))
        sets = [
            e["kwargs"]["value_set"]
            for e in committed["expectations"]
            if "value_set" in e["kwargs"] and not _is_statbank_marker_set(e["kwargs"]["value_set"])
        ]
        assert sets and all(isinstance(value_set, dict) and "$seed" in value_set for value_set in sets), name
        resolved = gate.load_suite_document(name)["expectations"]
        assert codes in [e["kwargs"].get("value_set") for e in resolved], name


def test_no_suite_types_out_a_code_list():
    for path in gate.expectations_dir().glob("*.json"):
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            value_set = expectation["kwargs"].get("value_set")
            assert not isinstance(value_set, list) or _is_statbank_marker_set(value_set), (
                path.name,
                expectation["type"],
            )


@pytest.mark.parametrize("suite_name", RAW_SUITES + MART_SUITES)
def test_valid_table_passes_every_check(suite_name):
    frame = good_frames()[suite_name]
    verdict = gate.validate_frame(suite_name, frame)
    assert verdict.passed
    assert [o for o in verdict.outcomes if not o.success] == []
    assert verdict.n_rows == len(frame)
    assert verdict.table == gate.suite_table(suite_name)
    assert len(verdict.outcomes) == len(gate.load_suite_document(suite_name)["expectations"])


def test_unknown_municipality_code_fails_blocking_check():
    frame = respondents(4, municipality_code=[101, UNKNOWN_MUNICIPALITY, 147, 851])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert not verdict.passed
    outcome = failed(verdict, "expect_column_values_to_be_in_set", "municipality_code")
    assert outcome.severity == "blocking"
    assert outcome.observed == "1 of 4 rows unexpected (counting only the rows the check applies to)"
    assert verdict.failed_blocking == (outcome,)


def test_christianso_is_not_accepted_as_a_municipality():
    verdict = gate.validate_frame("raw_survey_respondents", respondents(4, municipality_code=[101, 411, 147, 851]))
    assert not verdict.passed


def test_duplicated_respondent_id_fails_blocking_check():
    verdict = gate.validate_frame("raw_survey_respondents", respondents(3, respondent_id=[7, 7, 8]))
    assert not verdict.passed
    outcome = failed(verdict, "expect_compound_columns_to_be_unique", "export_id, respondent_id")
    assert outcome.severity == "blocking"
    assert outcome.observed == "2 of 3 rows unexpected"


def test_warning_only_failure_leaves_verdict_passed():
    started = pd.Timestamp("2016-03-01 09:00")
    frame = respondents(3, closed_at=[started - pd.Timedelta(hours=1), started, pd.NaT])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert verdict.passed
    assert verdict.failed_blocking == ()
    (outcome,) = verdict.failed_warning
    assert outcome.column == "closed_at, started_at"
    assert outcome.observed.startswith("1 of 3 rows unexpected")
    assert gate.describe_failures([verdict]).startswith("WARNING:")


def test_municipality_population_warning_ignores_other_areas_tables_and_parts_of_the_population():
    frame = good_frames()["raw_statbank_observations"]
    verdict = gate.validate_frame("raw_statbank_observations", frame)
    # Neither the country's 5.7 million, nor Læsø's 900 women, nor Christiansø's 87, nor an area in km².
    assert verdict.failed_warning == ()

    frame.loc[2, "value"] = 500  # Læsø, all of it
    verdict = gate.validate_frame("raw_statbank_observations", frame)
    assert verdict.passed
    (outcome,) = verdict.failed_warning
    assert outcome.column == "value"
    assert outcome.observed.startswith("1 of 1 rows unexpected")


def test_a_period_that_reads_as_no_date_fails_blocking_check():
    frame = good_frames()["raw_statbank_observations"]
    frame.loc[1, "period_start_date"] = pd.NaT
    verdict = gate.validate_frame("raw_statbank_observations", frame)
    outcome = failed(verdict, "expect_column_values_to_not_be_null", "period_start_date")
    assert outcome.observed == "1 of 7 rows unexpected"
    assert not verdict.passed


APPLIES = " (counting only the rows the check applies to)"


@pytest.mark.parametrize(
    ("row", "column", "value", "check", "observed"),
    [
        (3, "municipality_code", UNKNOWN_MUNICIPALITY, "in_set", f"1 of 3 rows unexpected{APPLIES}"),
        (1, "value", -1, "between", f"1 of 5 rows unexpected{APPLIES}"),  # FOLK1A: a population is not negative
        (5, "value", 45_001, "between", f"1 of 2 rows unexpected{APPLIES}; 1 empty, not checked"),  # ARE207, km²
        (6, "value_marker", "x", "in_set", "1 of 7 rows unexpected; 6 empty, not checked"),
        (4, "area_level", "parish", "in_set", "1 of 7 rows unexpected"),
    ],
    ids=["unknown-municipality", "negative-population", "area-beyond-the-country", "odd-marker", "unknown-level"],
)
def test_a_damaged_statbank_figure_fails_a_blocking_check_naming_its_column(row, column, value, check, observed):
    frame = good_frames()["raw_statbank_observations"]
    frame.loc[row, column] = value
    verdict = gate.validate_frame("raw_statbank_observations", frame)
    outcome = failed(verdict, f"expect_column_values_to_be_{check}", column)
    assert outcome.severity == "blocking"
    assert outcome.observed == observed
    assert verdict.failed_blocking == (outcome,)


def test_wrong_row_count_of_a_mart_is_reported_as_a_count():
    frame = good_frames()["municipality_profile"].iloc[:97]
    verdict = gate.validate_frame("municipality_profile", frame)
    outcome = failed(verdict, "expect_table_row_count_to_equal", None)
    assert outcome.observed == "observed 97 rows"
    assert not verdict.passed


def test_more_sector_areas_answering_than_invited_fails_and_low_mean_share_warns():
    frame = good_frames()["municipality_profile"]
    frame["n_sector_areas_answering"] = 0
    frame.loc[5, "n_sector_areas_answering"] = 9
    frame["share_sector_areas_answering"] = 0.0
    verdict = gate.validate_frame("municipality_profile", frame)
    pair = failed(
        verdict,
        "expect_column_pair_values_a_to_be_greater_than_b",
        "n_sector_areas_invited, n_sector_areas_answering",
    )
    assert pair.observed == "1 of 98 rows unexpected"
    mean = failed(verdict, "expect_column_mean_to_be_between", "share_sector_areas_answering")
    assert mean.severity == "warning"
    assert mean.observed == "observed 0"
    assert verdict.failed_blocking == (pair,)


def test_response_rates_out_of_order_fail_and_an_odd_overall_rate_warns():
    frame = good_frames()["survey_coverage"]
    frame.loc[frame["breakdown"] == "region", "rr1_numerator"] = 11  # more completes than responses
    frame.loc[frame["breakdown"] == "all", "rr2"] = 0.95
    verdict = gate.validate_frame("survey_coverage", frame)
    pair = failed(verdict, "expect_column_pair_values_a_to_be_greater_than_b", "rr2_numerator, rr1_numerator")
    assert pair.observed == "5 of 19 rows unexpected"
    odd = failed(verdict, "expect_column_values_to_be_between", "rr2")
    assert odd.severity == "warning"
    assert odd.observed == "1 of 1 rows unexpected (counting only the rows the check applies to)"
    assert verdict.failed_blocking == (pair,)


def test_a_share_above_one_or_a_category_beyond_its_denominator_fails_the_concept_mart():
    frame = good_frames()["partner_collaboration"]
    frame.loc[0, "share"] = 1.2
    frame.loc[1, "n_category"] = 9
    verdict = gate.validate_frame("partner_collaboration", frame)
    share = failed(verdict, "expect_column_values_to_be_between", "share")
    assert share.observed == "1 of 256 rows unexpected; 32 empty, not checked"
    pair = failed(verdict, "expect_column_pair_values_a_to_be_greater_than_b", "n_valid, n_category")
    assert pair.observed == "1 of 256 rows unexpected"
    assert not verdict.passed


def test_a_head_without_a_weight_fails_and_a_heavy_weight_warns():
    frame = good_frames()["survey_weights"]
    frame.loc[0, "weight"] = None
    frame.loc[1, "weight"] = 35.0
    verdict = gate.validate_frame("survey_weights", frame)
    missing = failed(verdict, "expect_column_values_to_not_be_null", "weight")
    heavy = failed(verdict, "expect_column_values_to_be_between", "weight")
    assert heavy.severity == "warning"
    assert verdict.failed_blocking == (missing,)


def test_missing_column_fails_and_is_named():
    frame = respondents(3).drop(columns=["status_code"])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    outcome = failed(verdict, "expect_column_values_to_be_in_set", "status_code")
    assert outcome.observed == "the table has no column status_code"
    assert not verdict.passed


def test_no_cell_value_appears_in_outcomes_or_failure_description():
    bad_respondents = respondents(
        4,
        export_id=[EXPORT] * 4,
        respondent_id=[PSEUDONYM, PSEUDONYM, EMAIL, None],
        municipality_code=[UNKNOWN_MUNICIPALITY, 101, 147, 851],
        sector_area_code=[8317, 1, 2, 3],
        status_code=[6203, 1, 2, 3],
        closed_at=[pd.Timestamp("1901-01-01")] * 4,
    )
    bad_answers = pd.DataFrame(
        {
            "export_id": [EXPORT] * 3,
            "respondent_id": [PSEUDONYM] * 3,
            "variable_name": [EMAIL, EMAIL, None],
            "answer_value": ["7741", "7741", None],
            "source_file": ["dataset.csv"] * 3,
            "source_row": [2, 3, 4],
        }
    )
    bad_observations = good_frames()["raw_statbank_observations"]
    bad_observations["time_code"] = "5519X8"
    bad_observations.loc[0, "area_level"] = PSEUDONYM
    bad_observations.loc[2, "value"] = 58_123_457  # a municipality beyond the warning band
    bad_observations.loc[3, "municipality_code"] = UNKNOWN_MUNICIPALITY
    bad_observations.loc[5, "value"] = 42_424_243  # an area beyond the country's
    bad_observations.loc[6, "value_marker"] = "7741"
    verdicts = [
        gate.validate_frame("raw_survey_respondents", bad_respondents),
        gate.validate_frame("raw_survey_answers", bad_answers),
        gate.validate_frame("raw_statbank_observations", bad_observations),
    ]
    assert all(not v.passed for v in verdicts)
    words = all_words(verdicts)
    for cell in (
        PSEUDONYM,
        EMAIL,
        EXPORT,
        "999",
        "8317",
        "6203",
        "7741",
        "1901",
        "5519X8",
        "58123457",
        "58,123,457",
        "42424243",
        "42,424,243",
    ):
        assert cell not in words, f"cell value {cell!r} leaked into the gate's words"
    # Yet the words say what failed and how often.
    assert "column municipality_code" in words
    assert "1 of 4 rows unexpected" in words


def test_gx_results_in_the_gates_result_format_hold_counts_but_no_cell_value():
    frame = respondents(
        3,
        respondent_id=[PSEUDONYM, PSEUDONYM, EMAIL],
        municipality_code=[UNKNOWN_MUNICIPALITY, 101, 147],
        status_code=[6203, 1, 2],
    )
    batch = gate._batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gate.load_suite("raw_survey_respondents"), result_format=gate.RESULT_FORMAT)
    assert not result.success
    # The expectation configs hold the suite's own value sets; the data-derived part is `result`.
    answers = [(item.result, item.exception_info) for item in result.results]
    dumped = json.dumps([item.to_json_dict()["result"] for item in result.results])
    for cell in (PSEUDONYM, EMAIL, "999", "6203"):
        assert cell not in dumped
    for answer, exception_info in answers:
        assert answer.get("partial_unexpected_list", []) == []
        assert not {"unexpected_list", "unexpected_index_list", "partial_unexpected_counts"} & set(answer)
        assert not exception_info.get("raised_exception")


def test_an_unmapped_export_may_lack_municipality_and_sector_but_a_mapped_one_may_not():
    """Rows of an export no mapping entry ties to a wave land without background; the checks of
    municipality and sector area apply to mapped rows only (and the code set to municipality rows)."""
    unmapped = respondents(
        3,
        wave_id=[None, None, "2016"],
        area_level=[None, None, "municipality"],
        municipality_code=[None, None, 101],
        sector_area_code=[None, None, 1],
    )
    assert gate.validate_frame("raw_survey_respondents", unmapped).passed
    christianso = respondents(2, area_level=["outside_municipalities", "municipality"], municipality_code=[411, 101])
    assert gate.validate_frame("raw_survey_respondents", christianso).passed
    missing = respondents(2, municipality_code=[None, 101], area_level=[None, "municipality"])
    verdict = gate.validate_frame("raw_survey_respondents", missing)
    assert [(o.check, o.column) for o in verdict.failed_blocking] == [
        ("expect_column_values_to_not_be_null", "municipality_code")
    ]


def test_describe_failures_gives_one_line_per_failed_check_in_words():
    verdict = gate.validate_frame(
        "raw_survey_respondents",
        respondents(4, municipality_code=[101, UNKNOWN_MUNICIPALITY, 147, 851], status_code=[1, 2, 3, 0]),
    )
    text = gate.describe_failures(
        [verdict, gate.validate_frame("raw_survey_answers", good_frames()["raw_survey_answers"])]
    )
    lines = text.splitlines()
    assert len(lines) == 2
    assert all(
        line.startswith("BLOCKING: suite raw_survey_respondents on table raw.survey_respondents") for line in lines
    )
    assert "column municipality_code" in lines[0]
    assert "one of the 98 Danish municipalities" in lines[0]
    assert "1 of 4 rows unexpected" in lines[0]
    assert "column status_code" in lines[1]
    assert gate.describe_failures([]) == ""


def test_frame_read_from_duckdb_with_a_bad_row_fails():
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect() as connection:
        connection.execute(
            """
            create table survey_respondents as
            select
                'export-1' as export_id,
                range::integer as respondent_id,
                (case when range = 2 then 999 else 101 end)::smallint as municipality_code,
                (range % 8 + 1)::tinyint as sector_area_code,
                null::tinyint as status_code,
                timestamp '2016-03-01 09:00' as created_at,
                timestamp '2016-03-01 09:00' as started_at,
                null::timestamp as closed_at,
                null::timestamp as modified_at,
                'p' || range as respondent_name_pseudonym,
                'e' || range as email_pseudonym,
                '2016' as wave_id,
                'municipality' as area_level,
                'dataset.csv' as source_file,
                range::integer as source_row
            from range(5)
            """
        )
        frame = connection.sql("select * from survey_respondents").df()
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert [o.column for o in verdict.failed_blocking] == ["municipality_code"]
    assert verdict.failed_blocking[0].observed == "1 of 5 rows unexpected (counting only the rows the check applies to)"


def test_expectations_folder_can_be_moved_with_an_environment_variable(tmp_path, monkeypatch):
    source = gate.expectations_dir() / "case_fieldwork.json"
    (tmp_path / "case_fieldwork.json").write_text(source.read_text(encoding="utf-8"))
    monkeypatch.setenv("SAMSKAB_EXPECTATIONS_DIR", str(tmp_path))
    assert gate.suite_names("marts") == ["case_fieldwork"]
    assert gate.suite_names("raw") == []
