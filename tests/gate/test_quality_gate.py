"""The quality gate on small hand-built tables, with the real Great Expectations; and the split of the
checks between the two tools: GX guards the raw deliveries before dbt (and the drift of a candidate,
tested in tests/gate/test_drift.py), dbt's tests hold the keys and the marts' truths.

GX takes about ten seconds to import; the gate imports it once per process and keeps one
context, so every test after the first validates in a fraction of a second.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import subprocess
import sys

import duckdb
import jinja2
import pandas as pd
import pytest
import yaml

from samskab.common.reference import seed_column
from samskab.gate import suites as gate
from samskab.gate.stages import validate_stage
from samskab.ingest.sources.statbank import OBSERVATIONS
from samskab.ingest.sources.statbank_format import MISSING_MARKERS
from tests.lakes import REPO

REPO_ROOT = REPO
DBT_PROJECT = REPO_ROOT / "dbt_project"

RAW_SUITES = [
    "raw_case_studies",
    "raw_classification_codes",
    "raw_fieldwork_activities",
    "raw_statbank_observations",
    "raw_survey_answers",
    "raw_survey_respondents",
]
DRIFT_SUITES = ["drift_row_counts", "drift_shares"]
OPTIONAL_SUITES = {"raw_classification_codes"}
UNIQUENESS_CHECKS = {
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_values_to_be_unique",
}

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


def band(suite_name: str) -> tuple[int, int]:
    """The committed row-count band of a raw suite: (min_value, max_value)."""
    (kwargs,) = [
        expectation["kwargs"]
        for expectation in gate.load_suite_document(suite_name)["expectations"]
        if expectation["type"] == "expect_table_row_count_to_be_between"
    ]
    return kwargs["min_value"], kwargs["max_value"]


def statbank_observations(rows: list[tuple]) -> pd.DataFrame:
    """A raw.statbank_observations table, with the reader's columns and types, from rows of
    (table_id, area_code, area_level, municipality_code, time_code, dimensions, dimensions_at_total,
    value, value_marker), followed by one valid population figure for each of the 98 municipalities
    (the suite's row-count band wants at least 98); the other columns are filled as the reader fills them."""
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
    padding = [
        ("FOLK1A", str(code), "municipality", code, "2016K1", '{"KØN": "TOT"}', True, 50_000, None)
        for code in _municipality_codes()
    ]
    frame = pd.DataFrame([*rows, *padding], columns=given)
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


def respondents(n: int | None = None, **overrides: list) -> pd.DataFrame:
    """A valid raw.survey_respondents table of `n` rows (by default the fewest its row-count band
    allows); each keyword argument replaces the first values of its column."""
    n = band("raw_survey_respondents")[0] if n is None else n
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
    for column, values in overrides.items():
        columns[column] = [*values, *columns[column][len(values) :]]
    return pd.DataFrame(columns)


def case_studies(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [f"case-{i + 1}" for i in range(n)],
            "municipality_code": [[101, 851][i % 2] for i in range(n)],
            "effort_title": [f"effort {i + 1}" for i in range(n)],
            "knowledge_area": [["children_youth", "social_health"][i % 2] for i in range(n)],
            "fieldwork_start_date": pd.to_datetime([["2016-09-01", "2016-10-01"][i % 2] for i in range(n)]),
            "fieldwork_end_date": pd.to_datetime([["2016-12-01", None][i % 2] for i in range(n)]),
            "source_file": ["cases.csv"] * n,
            "source_row": list(range(2, n + 2)),
        }
    )


def good_frames() -> dict[str, pd.DataFrame]:
    """One small valid table per raw suite, each within its row-count band."""
    n_answers = band("raw_survey_answers")[0]
    return {
        "raw_survey_respondents": respondents(),
        "raw_survey_answers": pd.DataFrame(
            {
                "export_id": [EXPORT] * n_answers,
                "respondent_id": [i // 4 + 1 for i in range(n_answers)],
                "variable_name": [f"q{i % 4 + 1}" for i in range(n_answers)],
                "answer_value": ["0", "9", "4", "135.407"] * (n_answers // 4),
                "source_file": ["dataset.csv"] * n_answers,
                "source_row": [i // 4 + 2 for i in range(n_answers)],
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
        "raw_case_studies": case_studies(),
        "raw_classification_codes": pd.DataFrame(
            {
                "classification": ["disco08_da"] * 3,
                "sequence_number": [1, 2, 3],
                "code": ["0", "01", "011"],
                "level": [1, 2, 3],
                "title": ["Militært arbejde", "Officerer", "Officerer"],
                "parent_code": [None, "0", "01"],
                "details": [None] * 3,
                "source_file": ["classifications/disco08_da.csv"] * 3,
                "source_row": [2, 3, 4],
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
    code = "import sys, samskab.gate.suites; sys.exit('great_expectations' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False)
    assert completed.returncode == 0


def test_suite_names_list_the_raw_and_drift_suites_and_no_mart_suite():
    assert gate.suite_names("raw") == RAW_SUITES
    assert gate.suite_names("drift") == DRIFT_SUITES
    assert gate.suite_names("marts") == []  # the marts' truths are dbt tests
    with pytest.raises(ValueError):
        gate.suite_names("staging")


def test_suite_table_names_the_guarded_table():
    assert gate.suite_table("raw_survey_respondents") == "raw.survey_respondents"
    assert gate.suite_table("drift_row_counts") == "main.all_marts"
    with pytest.raises(KeyError):
        gate.suite_table("municipality_profile")  # a mart suite no more


def test_every_suite_json_loads_and_every_expectation_has_one_severity_and_a_description():
    files = sorted(gate.expectations_dir().glob("*.json"))
    assert [f.stem for f in files] == sorted(RAW_SUITES + DRIFT_SUITES)
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["meta"]["stage"] in ("raw", "drift")
        assert document["meta"]["table"].split(".")[0] in ("raw", "main")
        assert document["expectations"], path.name
        for expectation in document["expectations"]:
            assert expectation["meta"]["severity"] in ("blocking", "warning"), path.name
            assert "severity" not in expectation, path.name  # one severity field per check: meta's
            assert expectation["meta"]["description"].strip(), path.name
        # The committed JSON is a GX 1.x suite: GX reads it back to the same expectations, with GX's own
        # severity field following meta's.
        suite = gate.load_suite(path.stem)
        assert [e.expectation_type for e in suite.expectations] == [e["type"] for e in document["expectations"]]
        assert [e.severity.value for e in suite.expectations] == [
            {"blocking": "critical", "warning": "warning"}[e["meta"]["severity"]] for e in document["expectations"]
        ]


def test_a_suite_with_a_second_severity_field_is_refused(tmp_path, monkeypatch):
    document = json.loads((gate.expectations_dir() / "raw_case_studies.json").read_text(encoding="utf-8"))
    document["expectations"][0]["severity"] = "critical"
    (tmp_path / "raw_case_studies.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("SAMSKAB_EXPECTATIONS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="keep meta 'severity' only"):
        gate.load_suite_document("raw_case_studies")


def test_municipality_code_sets_of_the_suites_are_the_seeds_98_codes_without_christianso():
    codes = _municipality_codes()
    assert len(codes) == len(set(codes)) == 98 and 411 not in codes
    regions = collections.Counter(seed_column("municipalities", "regionsnavn"))
    assert sorted(regions.values()) == [11, 17, 19, 22, 29]
    for name in ("raw_case_studies", "raw_survey_respondents", "raw_statbank_observations"):
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


@pytest.mark.parametrize("suite_name", RAW_SUITES)
def test_valid_table_passes_every_check(suite_name):
    frame = good_frames()[suite_name]
    verdict = gate.validate_frame(suite_name, frame)
    assert verdict.passed
    assert [o for o in verdict.outcomes if not o.success] == []
    assert verdict.n_rows == len(frame)
    assert verdict.table == gate.suite_table(suite_name)
    assert len(verdict.outcomes) == len(gate.load_suite_document(suite_name)["expectations"])


# --- the row-count bands of the raw tables ----------------------------------------------------------


@pytest.mark.parametrize("suite_name", RAW_SUITES)
def test_every_raw_suite_has_a_blocking_row_count_band_with_both_ends_and_its_reason(suite_name):
    (expectation,) = [
        e
        for e in gate.load_suite_document(suite_name)["expectations"]
        if e["type"] == "expect_table_row_count_to_be_between"
    ]
    low, high = expectation["kwargs"]["min_value"], expectation["kwargs"]["max_value"]
    # Only a source researchers deliver when they need it may be empty; every other one must hold rows.
    assert (low >= 1 or suite_name in OPTIONAL_SUITES) and low < high
    assert expectation["meta"]["severity"] == "blocking"
    # The description says the band and why: both ends, as written for people.
    description = expectation["meta"]["description"]
    assert f"{low:,}" in description and f"{high:,}" in description, description
    assert len(description) > 150, description


def test_the_bands_let_the_studys_own_deliveries_through():
    """A band that would stop a real delivery is worse than none: the study's sizes sit well inside."""
    one_wave, both_waves = 98 * 8, 2 * 98 * 8  # heads invited per wave: 98 municipalities x 8 sector areas
    # respondents: an export of a wave's answering half at least; ten times both waves at most
    low, high = band("raw_survey_respondents")
    assert low <= one_wave // 2 and high >= 10 * both_waves
    # answers: ten per record of that half; a hundred per record of ten deliveries of both waves
    low, high = band("raw_survey_answers")
    assert low <= 10 * one_wave // 2 and high >= 100 * both_waves * 10
    # Statbank: a figure per municipality; ten answers of FOLK1A by sex over 70 quarters (105 areas)
    low, high = band("raw_statbank_observations")
    assert low <= 98 and high >= (1 + 5 + 98 + 1) * 3 * 70 * 10
    # the case register: the study's five cases three times over; a hundred activities per case
    low, high = band("raw_case_studies")
    assert low <= 1 and high >= 5 * 3
    low, high = band("raw_fieldwork_activities")
    assert low <= 1 and high >= 5 * 100


def test_too_few_respondent_records_fail_the_band_as_a_count():
    low, _ = band("raw_survey_respondents")
    verdict = gate.validate_frame("raw_survey_respondents", respondents(low - 1))
    outcome = failed(verdict, "expect_table_row_count_to_be_between", None)
    assert outcome.severity == "blocking"
    assert outcome.observed == f"observed {low - 1} rows"
    assert verdict.failed_blocking == (outcome,)
    assert gate.validate_frame("raw_survey_respondents", respondents(low)).passed


def test_more_case_studies_than_the_band_allows_fail_it():
    _, high = band("raw_case_studies")
    verdict = gate.validate_frame("raw_case_studies", case_studies(high + 1))
    outcome = failed(verdict, "expect_table_row_count_to_be_between", None)
    assert outcome.observed == f"observed {high + 1} rows"
    assert verdict.failed_blocking == (outcome,)
    assert gate.validate_frame("raw_case_studies", case_studies(high)).passed


# --- keys are dbt's: source tests on the raw tables ---------------------------------------------------


def _tests_by_column(entry: dict) -> dict[str, list]:
    """An entry's (model's, source table's) data tests by its name and by name.column, with the checks of
    its one-query tests read as one test each: a column its `required_and_unique` test lists as not null
    has `not_null` among its tests, a key of one column there is that column's `unique` and a key of
    several the entry's `unique_combination`; a range of its `column_bounds` test is that column's
    `accepted_range` (with the test's config), a share there is the model's `numerator_within_denominator`;
    a reference or list of its `references` test is that column's `relationships` or `accepted_values`."""
    name = entry["name"]
    tests = {name: list(entry.get("data_tests") or [])}
    for column in entry.get("columns") or []:
        tests[f"{name}.{column['name']}"] = list(column.get("data_tests") or [])
    for test in list(tests[name]):
        if isinstance(test, dict) and "required_and_unique" in test:
            arguments = test["required_and_unique"]["arguments"]
            for column in arguments.get("not_null") or []:
                tests.setdefault(f"{name}.{column}", []).append("not_null")
            for key in arguments.get("unique") or []:
                if len(key) == 1:
                    tests.setdefault(f"{name}.{key[0]}", []).append("unique")
                else:
                    tests[name].append({"unique_combination": {"arguments": {"combination_of_columns": key}}})
        if isinstance(test, dict) and "column_bounds" in test:
            arguments, config = test["column_bounds"]["arguments"], test["column_bounds"].get("config") or {}
            for bound in arguments.get("ranges") or []:
                limits = {key: value for key, value in bound.items() if key != "column"}
                tests.setdefault(f"{name}.{bound['column']}", []).append(
                    {"accepted_range": {"arguments": limits, "config": config}}
                )
            for share in arguments.get("shares") or []:
                tests[name].append({"numerator_within_denominator": {"arguments": share, "config": config}})
        if isinstance(test, dict) and "references" in test:
            arguments, config = test["references"]["arguments"], test["references"].get("config") or {}
            for reference in arguments.get("references") or []:
                tests.setdefault(f"{name}.{reference['column']}", []).append(
                    {
                        "relationships": {
                            "arguments": {"to": reference["to"], "field": reference["field"]},
                            "config": config,
                        }
                    }
                )
            for listed in arguments.get("values") or []:
                tests.setdefault(f"{name}.{listed['column']}", []).append(
                    {"accepted_values": {"arguments": {"values": listed["values"]}, "config": config}}
                )
    return tests


def _source_tests() -> dict[str, list]:
    """Every data test of the dbt sources' raw tables: {"case_studies": [test, ...], "case_studies.case_id": [...]}."""
    tests: dict[str, list] = {}
    for path in (DBT_PROJECT / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            for table in source["tables"]:
                tests.update(_tests_by_column(table))
    return tests


def _unique_combinations(tests: list) -> list[list[str]]:
    return [
        test["unique_combination"]["arguments"]["combination_of_columns"]
        for test in tests
        if isinstance(test, dict) and "unique_combination" in test
    ]


def test_no_raw_suite_checks_a_key_and_dbt_source_tests_hold_every_raw_key():
    for name in RAW_SUITES:
        checks = {e["type"] for e in gate.load_suite_document(name)["expectations"]}
        assert not checks & UNIQUENESS_CHECKS, name
    tests = _source_tests()
    for column in ("case_studies.case_id", "fieldwork_activities.activity_id"):
        assert {"unique", "not_null"} <= set(tests[column]), column
    assert ["export_id", "respondent_id"] in _unique_combinations(tests["survey_respondents"])
    assert ["export_id", "respondent_id", "variable_name"] in _unique_combinations(tests["survey_answers"])
    for column in ("survey_respondents.export_id", "survey_respondents.respondent_id", "survey_answers.variable_name"):
        assert "not_null" in tests[column], column


def test_a_required_field_gx_checks_before_dbt_is_not_checked_again_by_a_dbt_source_test():
    tests = _source_tests()
    gx_required = {
        f"{gate.suite_table(name).split('.')[1]}.{e['kwargs']['column']}"
        for name in RAW_SUITES
        for e in gate.load_suite_document(name)["expectations"]
        if e["type"] == "expect_column_values_to_not_be_null" and "row_condition" not in e["kwargs"]
    }
    assert {
        "survey_answers.answer_value",
        "statbank_observations.table_id",
        "fieldwork_activities.case_id",
    } <= gx_required
    assert [column for column in sorted(gx_required) if "not_null" in tests.get(column, [])] == []


# --- what the mart suites checked are dbt tests now ----------------------------------------------------


def _mart_tests() -> dict[str, list]:
    """Every data test of the marts, by model and by model.column."""
    tests: dict[str, list] = {}
    for path in (DBT_PROJECT / "models" / "marts").glob("_*.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            tests.update(_tests_by_column(model))
    return tests


def _generic(tests: list, name: str) -> list[tuple[dict, dict]]:
    """(arguments, config) of each test named `name` in a list of dbt data tests."""
    return [
        ((test[name] or {}).get("arguments") or {}, (test[name] or {}).get("config") or {})
        for test in tests
        if isinstance(test, dict) and name in test
    ]


@pytest.mark.parametrize(
    ("node", "test", "arguments", "config"),
    [
        ("municipality_profile", "row_count_between", {"min_value": 98, "max_value": 98}, {}),
        (
            "municipality_profile",
            "numerator_within_denominator",
            {"numerator": "n_sector_areas_answering", "denominator": "n_sector_areas_invited"},
            {},
        ),
        ("municipality_profile.population", "accepted_range", {"min_value": 1}, {}),
        (
            "municipality_profile.share_sector_areas_answering",
            "column_mean_between",
            {"min_value": 0.2, "max_value": 0.8},
            {"severity": "warn"},
        ),
        (
            "partner_collaboration.answer_category",
            "relationships",
            {"to": "ref('stg_reference__answer_categories')", "field": "answer_category"},
            {},
        ),
        ("partner_collaboration.share_dont_know", "accepted_range", {"max_value": 0.5}, {"severity": "warn"}),
        ("survey_coverage", "row_count_between", {"min_value": 19}, {}),
        (
            "survey_coverage",
            "numerator_within_denominator",
            {"numerator": "rr2_numerator", "denominator": "n_eligible"},
            {},
        ),
        (
            "survey_coverage.rr2",
            "accepted_range",
            {"min_value": 0.2, "max_value": 0.9},
            {"where": "breakdown = 'all'", "severity": "warn"},
        ),
        ("survey_weights.weight", "accepted_range", {"min_value": 0.5, "max_value": 20}, {"severity": "warn"}),
        ("case_fieldwork.n_activities", "accepted_range", {"min_value": 1}, {"severity": "warn"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_check_of_the_former_mart_suites_is_a_dbt_test_with_its_severity(node, test, arguments, config):
    assert (arguments, config) in _generic(_mart_tests()[node], test)


def test_population_of_every_municipality_is_required_by_dbt():
    assert "not_null" in _mart_tests()["municipality_profile.population"]


# The project's generic tests, rendered as dbt renders them (a test block is a macro taking the relation),
# against a DuckDB table: a cheap proof that each fails on the rows it should, without a dbt build.
def render_generic_test(name: str, relation: str, **arguments) -> str:
    source = (DBT_PROJECT / "tests" / "generic" / f"{name}.sql").read_text(encoding="utf-8")
    source = re.sub(r"{%\s*test\s", "{% macro ", source).replace("endtest", "endmacro")
    source = (DBT_PROJECT / "macros" / "broken_checks.sql").read_text(encoding="utf-8") + source  # the query they share
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    module = environment.from_string(source).module
    return str(getattr(module, name)(model=relation, **arguments))


def failing_rows(sql: str, table: pd.DataFrame) -> list[tuple]:
    with duckdb.connect() as connection:
        connection.register("tested", table)
        return connection.execute(sql).fetchall()


def test_row_count_between_fails_outside_its_band_with_the_count():
    profile = pd.DataFrame({"municipality_code": range(97)})
    assert failing_rows(render_generic_test("row_count_between", "tested", min_value=98, max_value=98), profile) == [
        (97,)
    ]
    whole = pd.DataFrame({"municipality_code": range(98)})
    assert failing_rows(render_generic_test("row_count_between", "tested", min_value=98, max_value=98), whole) == []
    assert failing_rows(render_generic_test("row_count_between", "tested", min_value=19), whole) == []


def test_column_bounds_counts_the_rows_each_bound_breaks_and_never_shows_a_value():
    sql = render_generic_test(
        "column_bounds",
        "tested",
        ranges=[
            {"column": "share", "min_value": 0, "max_value": 1},
            {"column": "population", "min_value": 1},
            {"column": "dont_know", "max_value": 0.5},
        ],
        shares=[{"numerator": "n_category", "denominator": "n_valid"}],
    )
    table = pd.DataFrame(
        {
            "share": [0.5, 1.2, -0.1, None],
            "population": [1, 0, 5000, None],
            "dont_know": [0.1, 0.2, 0.3, 0.5],
            "n_category": [3, 4, -1, 7],
            "n_valid": [3, 3, 2, None],
        }
    )
    assert sorted(failing_rows(sql, table)) == [
        ("n_category outside [0, n_valid]", 2),
        ("population below 1", 1),
        ("share outside [0, 1]", 2),
    ]
    whole = table.assign(share=0.5, population=10, n_category=1, n_valid=2)
    assert failing_rows(sql, whole) == []
    assert failing_rows(
        render_generic_test("column_bounds", "tested", ranges=[{"column": "dont_know", "max_value": 0.25}]), table
    ) == [("dont_know above 0.25", 2)]


class _Relation(str):
    """A table name as dbt renders `ref(...)` in a test's arguments: the relation, with its identifier."""

    @property
    def identifier(self) -> str:
        return str(self)


def test_references_counts_the_rows_each_reference_or_list_breaks_and_never_shows_a_value():
    sql = render_generic_test(
        "references",
        "tested",
        references=[{"column": "sector_area_code", "to": _Relation("areas"), "field": "code"}],
        values=[{"column": "breakdown", "values": ["all", "sector_area"]}, {"column": "kind", "values": ["o'clock"]}],
    )
    table = pd.DataFrame(
        {
            "sector_area_code": [1, 2, 99, 98, None],
            "breakdown": ["all", "sector_area", "region", "all", None],
            "kind": ["o'clock", "o'clock", "o'clock", None, "other"],
        }
    )
    with duckdb.connect() as connection:
        connection.execute("create table areas as select * from (values (1), (2), (null)) as t(code)")
        connection.register("tested", table)
        assert sorted(connection.execute(sql).fetchall()) == [
            ("breakdown not among the accepted values", 1),
            ("kind not among the accepted values", 1),
            ("sector_area_code not found in areas.code", 2),
        ]
        connection.register("tested", table.iloc[:2])
        assert connection.execute(sql).fetchall() == []


def test_column_mean_between_fails_when_the_mean_leaves_its_band():
    sql = render_generic_test("column_mean_between", "tested", column_name="share", min_value=0.2, max_value=0.8)
    assert failing_rows(sql, pd.DataFrame({"share": [0.0, 0.1, None]})) == [(0.05,)]
    assert failing_rows(sql, pd.DataFrame({"share": [0.25, 0.75, None]})) == []
    assert failing_rows(sql, pd.DataFrame({"share": pd.Series([None, None], dtype="float64")})) == []


# --- the raw checks, in words and counts --------------------------------------------------------------


def test_unknown_municipality_code_fails_blocking_check():
    frame = respondents(municipality_code=[101, UNKNOWN_MUNICIPALITY, 147, 851])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert not verdict.passed
    outcome = failed(verdict, "expect_column_values_to_be_in_set", "municipality_code")
    assert outcome.severity == "blocking"
    assert outcome.observed == "1 of 100 rows unexpected (counting only the rows the check applies to)"
    assert verdict.failed_blocking == (outcome,)


def test_christianso_is_not_accepted_as_a_municipality():
    verdict = gate.validate_frame("raw_survey_respondents", respondents(municipality_code=[101, 411, 147, 851]))
    assert not verdict.passed


def test_warning_only_failure_leaves_verdict_passed():
    started = pd.Timestamp("2016-03-01 09:00")
    frame = respondents(closed_at=[started - pd.Timedelta(hours=1), started, pd.NaT])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert verdict.passed
    assert verdict.failed_blocking == ()
    (outcome,) = verdict.failed_warning
    assert outcome.column == "closed_at, started_at"
    assert outcome.observed.startswith("1 of 100 rows unexpected")
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
    assert outcome.observed.startswith("1 of 99 rows unexpected")  # Læsø and the 98 municipalities' totals


def test_a_period_that_reads_as_no_date_fails_blocking_check():
    frame = good_frames()["raw_statbank_observations"]
    frame.loc[1, "period_start_date"] = pd.NaT
    verdict = gate.validate_frame("raw_statbank_observations", frame)
    outcome = failed(verdict, "expect_column_values_to_not_be_null", "period_start_date")
    assert outcome.observed == "1 of 105 rows unexpected"
    assert not verdict.passed


APPLIES = " (counting only the rows the check applies to)"


@pytest.mark.parametrize(
    ("row", "column", "value", "check", "observed"),
    [
        (3, "municipality_code", UNKNOWN_MUNICIPALITY, "in_set", f"1 of 101 rows unexpected{APPLIES}"),
        (1, "value", -1, "between", f"1 of 103 rows unexpected{APPLIES}"),  # FOLK1A: a population is not negative
        (5, "value", 45_001, "between", f"1 of 2 rows unexpected{APPLIES}; 1 empty, not checked"),  # ARE207, km²
        (6, "value_marker", "x", "in_set", "1 of 105 rows unexpected; 104 empty, not checked"),
        (4, "area_level", "parish", "in_set", "1 of 105 rows unexpected"),
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


def test_an_activity_without_its_case_fails_and_an_unknown_kind_too():
    frame = good_frames()["raw_fieldwork_activities"]
    frame.loc[0, "case_id"] = None
    frame.loc[2, "activity_type"] = "walk"
    verdict = gate.validate_frame("raw_fieldwork_activities", frame)
    assert failed(verdict, "expect_column_values_to_not_be_null", "case_id").observed == "1 of 3 rows unexpected"
    assert failed(verdict, "expect_column_values_to_be_in_set", "activity_type").observed == "1 of 3 rows unexpected"
    assert len(verdict.failed_blocking) == 2


def test_missing_column_fails_and_is_named():
    frame = respondents().drop(columns=["status_code"])
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    outcome = failed(verdict, "expect_column_values_to_be_in_set", "status_code")
    assert outcome.observed == "the table has no column status_code"
    assert not verdict.passed


def test_no_cell_value_appears_in_outcomes_or_failure_description():
    bad_respondents = respondents(
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
    assert "1 of 100 rows unexpected" in words
    assert "observed 3 rows" in words  # the answers' band, a count


def test_gx_results_in_the_gates_result_format_hold_counts_but_no_cell_value():
    frame = respondents(
        respondent_id=[PSEUDONYM, PSEUDONYM, EMAIL],
        municipality_code=[UNKNOWN_MUNICIPALITY, 101, 147],
        status_code=[6203, 1, 2],
    )
    batch = gate.batch_definition().get_batch(batch_parameters={"dataframe": frame})
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
        wave_id=[None, None],
        area_level=[None, None],
        municipality_code=[None, None],
        sector_area_code=[None, None],
    )
    assert gate.validate_frame("raw_survey_respondents", unmapped).passed
    christianso = respondents(area_level=["outside_municipalities", "municipality"], municipality_code=[411, 101])
    assert gate.validate_frame("raw_survey_respondents", christianso).passed
    missing = respondents(municipality_code=[None, 101], area_level=[None, "municipality"])
    verdict = gate.validate_frame("raw_survey_respondents", missing)
    assert [(o.check, o.column) for o in verdict.failed_blocking] == [
        ("expect_column_values_to_not_be_null", "municipality_code")
    ]


def test_describe_failures_gives_one_line_per_failed_check_in_words():
    verdict = gate.validate_frame(
        "raw_survey_respondents",
        respondents(municipality_code=[101, UNKNOWN_MUNICIPALITY, 147, 851], status_code=[1, 2, 3, 0]),
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
    assert "1 of 100 rows unexpected" in lines[0]
    assert "column status_code" in lines[1]
    assert gate.describe_failures([]) == ""


def test_frame_read_from_duckdb_with_a_bad_row_fails():
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
            from range(120)
            """
        )
        frame = connection.sql("select * from survey_respondents").df()
    verdict = gate.validate_frame("raw_survey_respondents", frame)
    assert [o.column for o in verdict.failed_blocking] == ["municipality_code"]
    assert verdict.failed_blocking[0].observed == f"1 of 120 rows unexpected{APPLIES}"


def test_a_suite_parameter_comes_from_the_caller_and_is_required(tmp_path, monkeypatch):
    """`{"$PARAMETER": name}` in a committed argument is filled from validate_frame's parameters."""
    document = {
        "name": "raw_bounded",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "n", "max_value": {"$PARAMETER": "ceiling"}},
                "meta": {"severity": "blocking", "description": "n stays under the ceiling."},
            }
        ],
        "meta": {"stage": "raw", "table": "raw.bounded"},
    }
    (tmp_path / "raw_bounded.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("SAMSKAB_EXPECTATIONS_DIR", str(tmp_path))
    frame = pd.DataFrame({"n": [1, 5, 9]})
    assert failed(gate.validate_frame("raw_bounded", frame, {"ceiling": 4}), "expect_column_values_to_be_between", "n")
    verdict = gate.validate_frame("raw_bounded", frame, {"ceiling": 10})
    assert verdict.passed
    # GX's result, kept for Data Docs, shows the value the check applied.
    assert verdict.validation_result["results"][0]["expectation_config"]["kwargs"]["max_value"] == 10
    from great_expectations.exceptions import SuiteParameterError

    with pytest.raises(SuiteParameterError, match="ceiling"):
        gate.validate_frame("raw_bounded", frame)


def test_the_marts_stage_has_no_suite_and_validates_nothing(tmp_path):
    # No file is opened for a stage without suites: this one does not even exist.
    assert validate_stage("marts", tmp_path / "no_such_candidate.duckdb") == []
    with pytest.raises(ValueError, match="drift_verdicts"):
        validate_stage("drift", tmp_path / "no_such_candidate.duckdb")


def test_expectations_folder_can_be_moved_with_an_environment_variable(tmp_path, monkeypatch):
    source = gate.expectations_dir() / "raw_case_studies.json"
    (tmp_path / "raw_case_studies.json").write_text(source.read_text(encoding="utf-8"))
    monkeypatch.setenv("SAMSKAB_EXPECTATIONS_DIR", str(tmp_path))
    assert gate.suite_names("raw") == ["raw_case_studies"]
    assert gate.suite_names("drift") == []


# --- large tables, a chunk at a time --------------------------------------------------------------------


def _chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


def _counts(verdict: gate.SuiteVerdict) -> list[tuple]:
    return [(o.check, o.column, o.success, o.observed) for o in verdict.outcomes]


def _data_docs_counts(verdict: gate.SuiteVerdict) -> list[tuple]:
    return [(item["success"], sorted(item["result"].items())) for item in verdict.validation_result["results"]]


@pytest.mark.parametrize("suite_name", [name for name in RAW_SUITES if gate.chunkable(name)])
def test_a_suite_over_chunks_says_what_it_says_over_the_whole_table(suite_name):
    """Every raw suite judges rows one by one or counts the table: validated a chunk at a time, it gives
    the verdict, the counts and the Data Docs counts it gives on the whole table, on a valid table and on
    one whose faults fall in different chunks; the row-count band is judged on the whole table, which a
    chunk alone would fail."""
    frame = good_frames()[suite_name]
    broken = frame.copy()
    for column in broken.columns:
        if column in gate.suite_columns(suite_name) and column not in ("source_file", "source_row"):
            broken.loc[broken.index[:: max(len(broken) // 3, 1)], column] = None  # a fault in several chunks
            break
    size = max(len(frame) // 3, 1)
    said = []
    for table in (frame, broken):
        whole = gate.validate_frame(suite_name, table)
        chunked = gate.validate_chunks(suite_name, _chunks(table, size), len(table))
        assert _counts(chunked) == _counts(whole) and chunked.n_rows == whole.n_rows
        assert chunked.passed == whole.passed
        assert _data_docs_counts(chunked) == _data_docs_counts(whole)
        said.append(_counts(whole))
    assert said[0] != said[1]  # the faults are counted: the broken table is not judged as the valid one


def test_a_suite_that_judges_more_than_rows_one_by_one_is_never_chunked(monkeypatch):
    """Uniqueness or a column's mean over a chunk is not that over the table: such a suite is read whole."""
    assert all(gate.chunkable(name) for name in RAW_SUITES)
    document = gate.load_suite_document("raw_survey_answers")
    for check in ("expect_column_values_to_be_unique", "expect_column_mean_to_be_between"):
        judging = {**document, "expectations": [*document["expectations"], {"type": check, "kwargs": {}}]}
        monkeypatch.setattr(gate, "load_suite_document", lambda name, judging=judging: judging)
        assert not gate.chunkable("raw_survey_answers")


def test_the_raw_stage_reads_a_table_larger_than_a_chunk_a_chunk_at_a_time(tmp_path, monkeypatch):
    """A raw table above the chunk size is read and validated in chunks (here of 2,048 rows: one DuckDB
    vector) and gives the stage's verdicts of reading it whole."""
    from samskab.gate import stages

    frames = good_frames()
    answers = pd.concat([frames["raw_survey_answers"]] * 5, ignore_index=True)
    answers.loc[answers.index[[10, 3000, 4500]], "answer_value"] = None  # in the first, second and third chunk
    frames["raw_survey_answers"] = answers
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema raw")
        for name, frame in frames.items():
            connection.register("frame", frame)
            connection.execute(f"create table {gate.suite_table(name)} as select * from frame")
            connection.unregister("frame")
    whole = validate_stage("raw", database)
    monkeypatch.setattr(stages, "CHUNK_ROWS", 2048)
    read: list[int] = []
    chunks_of = stages.read_only_chunks

    def counting(path, query, vectors):
        for chunk in chunks_of(path, query, vectors):
            read.append(len(chunk))
            yield chunk

    monkeypatch.setattr(stages, "read_only_chunks", counting)
    chunked = validate_stage("raw", database)
    assert read == [2048, 2048, 904]  # the answers alone, a chunk at a time; every other table whole
    assert [_counts(verdict) for verdict in chunked] == [_counts(verdict) for verdict in whole]
    (answer_verdict,) = [verdict for verdict in chunked if verdict.suite == "raw_survey_answers"]
    assert not answer_verdict.passed and answer_verdict.n_rows == 5000
    assert "3 of 5000 rows unexpected" in [outcome.observed for outcome in answer_verdict.outcomes]
