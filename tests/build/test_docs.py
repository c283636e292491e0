"""What a run documents: one row per dbt node, dbt's static docs, and Great Expectations' Data Docs.

A copy of the refreshed sample is checked and built once for the module, every node, without Prefect (the
plain functions the flow's tasks call), with a copy of the dbt project that holds one singular test made
to fail. Every page built from it is searched for the sample's people: their names and e-mails as the
generator wrote them, and every pseudonym and free text the raw layer holds.
"""

from __future__ import annotations

import collections
import html
import json
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from samskab.build import dbt as transform
from samskab.build import docs as dbt_docs
from samskab.gate import data_docs
from samskab.gate import suites as gate
from samskab.gate.stages import validate_stage
from samskab.sample.generate import SampleManifest
from tests.lakes import REPO, copy_lake, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

DBT_PROJECT = REPO / "dbt_project"
RAW_SUITES = gate.suite_names("raw")
# A singular test that fails on every row of a mart nothing is built from, so nothing is skipped.
FAILING_TEST = "assert_docs_probe_fails"
FAILING_MART = "municipality_profile"
# Raw columns that identify a person, or may name one (free text); none of their values may be shown.
PSEUDONYM_COLUMNS = {
    "raw.survey_respondents": ["respondent_pseudonym", "respondent_name_pseudonym", "email_pseudonym"],
    "raw.case_informants": ["informant_pseudonym"],
}
FREE_TEXT_COLUMNS = {"raw.survey_open_answers": ["answer_text"], "raw.case_documents": ["document_source"]}
# A pseudonym is `<kind>_<20 hex digits>`: its digits are searched for among the page's runs of hex digits,
# and an e-mail around the page's @ signs; on dbt's 5 MB page that is much faster than a search of the
# whole text for each of thousands of values.
HEX_RUN = re.compile(r"[0-9a-f]{20,}")
NODE_FIELDS = {"name", "resource_type", "status", "seconds", "severity", "relation", "failures"}


@dataclass
class BuiltLake:
    lake: Path
    manifest: SampleManifest
    outcome: transform.DbtOutcome
    raw_verdicts: list[gate.SuiteVerdict]
    dbt_page: Path
    gx_index: Path
    connections_tried: list
    pseudonyms: set[str]
    free_texts: set[str]


@contextmanager
def no_network() -> Iterator[list]:
    """Refuse every socket connection in the block; yields the addresses that were tried."""
    tried: list = []

    def refuse(self, address, *args, **kwargs):
        tried.append(address)
        raise OSError("no network while documentation is built")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        yield tried


def distinct_values(warehouse: Path, columns_of: dict[str, list[str]]) -> set[str]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        values = set()
        for table, columns in columns_of.items():
            for column in columns:
                rows = connection.execute(f'select distinct "{column}" from {table} where "{column}" is not null')
                values |= {str(value) for (value,) in rows.fetchall() if str(value).strip()}
    finally:
        connection.close()
    return values


@pytest.fixture(scope="module")
def built(refreshed_lake, tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    root = tmp_path_factory.mktemp("docs")
    lake, manifest = copy_lake(refreshed_lake[0], root), refreshed_lake[1]
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests" / f"{FAILING_TEST}.sql").write_text(
        f"select 1 as n from {{{{ ref('{FAILING_MART}') }}}} where true\n", encoding="utf-8"
    )
    with using_lake(lake), using_setting("SAMSKAB_DBT_PROJECT_DIR", str(project)) as settings:
        raw_verdicts = validate_stage("raw", settings.warehouse_path)
        outcome = transform.build_marts(settings, force=True)  # every node, not only the new test
        site = lake / "docs"
        with no_network() as tried:
            dbt_page = dbt_docs.build_dbt_docs(settings, site)
            gx_index = data_docs.build_gx_data_docs(raw_verdicts, site)
    return BuiltLake(
        lake,
        manifest,
        outcome,
        raw_verdicts,
        dbt_page,
        gx_index,
        tried,
        pseudonyms=distinct_values(settings.warehouse_path, PSEUDONYM_COLUMNS),
        free_texts=distinct_values(settings.warehouse_path, FREE_TEXT_COLUMNS),
    )


def leaked(text: str, built: BuiltLake) -> list[str]:
    """Every sample name, e-mail, raw pseudonym or raw free text that `text` shows."""
    text = html.unescape(text).casefold()
    hex_runs = "\n".join(set(HEX_RUN.findall(text)))
    at_signs = [match.start() for match in re.finditer("@", text)]
    around_at_signs = "\n".join(text[max(0, at - 100) : at + 100] for at in at_signs)
    found = [value for value in built.pseudonyms if value.split("_", 1)[-1] in hex_runs]
    found += [value for value in built.manifest.emails if value.casefold() in around_at_signs]
    # Bytes: a search of UTF-8 bytes is many times faster than one of a str holding non-Latin-1 letters.
    encoded = text.encode("utf-8")
    found += [value for value in (*built.manifest.names, *built.free_texts) if value.casefold().encode() in encoded]
    return found


def run_results(built: BuiltLake) -> list[dict]:
    target = built.lake / "warehouse" / "dbt_target"
    return json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]


# --- every dbt node, for a table artifact ---------------------------------------------------------


def test_every_node_dbt_ran_is_one_row_and_the_counts_agree(built):
    outcome = built.outcome
    results = run_results(built)
    assert len(outcome.nodes) == len(results) > 250
    assert collections.Counter(node.status for node in outcome.nodes) == collections.Counter(
        result["status"] for result in results
    )
    types = collections.Counter(node.resource_type for node in outcome.nodes)
    assert {"seed", "model", "test", "unit_test"} <= set(types)
    built_models = [n for n in outcome.nodes if n.resource_type in ("model", "seed") and n.status == "success"]
    passed_tests = [n for n in outcome.nodes if n.resource_type in ("test", "unit_test") and n.status == "pass"]
    assert len(built_models) == outcome.n_models == types["model"] + types["seed"]
    assert len(passed_tests) == outcome.n_tests_passed
    assert sum(n.status == "skipped" for n in outcome.nodes) == outcome.n_skipped == 0


def test_node_rows_hold_names_statuses_and_counts_only(built):
    rows = built.outcome.node_rows()
    assert len(rows) == len(built.outcome.nodes)
    for row in rows:
        assert set(row) == NODE_FIELDS
        assert all(type(value) in (str, int, float) for value in row.values()), row
        assert row["seconds"] == round(row["seconds"], 2) >= 0
        assert row["severity"] in ("blocking", "warning")
        if row["resource_type"] in ("test", "unit_test"):
            assert row["relation"] == "" and type(row["failures"]) is int
        else:
            assert row["relation"].count(".") == 1 and row["failures"] == "" and row["severity"] == "blocking"
    by_name = {row["name"]: row for row in rows}
    assert by_name[FAILING_MART]["relation"] == f"marts.{FAILING_MART}"
    assert by_name["municipalities"]["resource_type"] == "seed"
    assert by_name["municipalities"]["relation"] == "reference.municipalities"
    # Configured `severity: warn` in its SQL: a warning whatever its status.
    assert by_name["assert_closed_answers_are_mapped"]["severity"] == "warning"
    assert by_name["required_and_unique_int_municipalities"]["severity"] == "blocking"
    assert leaked(json.dumps(rows, ensure_ascii=False), built) == []


def test_a_failing_dbt_test_is_a_blocking_row_with_its_failure_count_and_no_message(built):
    connection = duckdb.connect(str(built.lake / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        (n_rows,) = connection.execute(f"select count(*) from marts.{FAILING_MART}").fetchall()[0]
    finally:
        connection.close()
    (row,) = [row for row in built.outcome.node_rows() if row["name"] == FAILING_TEST]
    assert row == {
        "name": FAILING_TEST,
        "resource_type": "test",
        "status": "fail",
        "seconds": row["seconds"],
        "severity": "blocking",
        "relation": "",
        "failures": n_rows,
    }
    assert not built.outcome.success
    # What dbt-duckdb says of a failing data test: a count and the rule, no row. Node rows leave even that out.
    message = f"Got {n_rows} results, configured to fail if != 0"
    assert built.outcome.failures == [f"dbt test {FAILING_TEST} fail: {message}"]
    assert message not in json.dumps(built.outcome.node_rows())


# --- dbt's static docs ----------------------------------------------------------------------------


def test_static_dbt_docs_are_one_file_with_the_lineage_and_no_person(built):
    assert built.dbt_page == built.lake / "docs" / "dbt" / "index.html"
    assert [path.name for path in built.dbt_page.parent.iterdir()] == ["index.html"]
    text = built.dbt_page.read_text(encoding="utf-8")
    # The manifest and the catalog are inlined: the page needs no other file to draw the lineage.
    assert "MANIFEST.JSON INLINE DATA" not in text and "CATALOG.JSON INLINE DATA" not in text
    assert '"child_map"' in text and '"parent_map"' in text
    assert f'"model.samskab.{FAILING_MART}"' in text and '"seed.samskab.municipalities"' in text
    assert '"send_anonymous_usage_stats": false' in text  # dbt's page only reports usage when this is true
    assert leaked(text, built) == []


def test_dbt_catalog_holds_column_names_and_types_but_no_statistics(built):
    catalog = json.loads((built.lake / "warehouse" / "dbt_target" / "catalog.json").read_text(encoding="utf-8"))
    tables = [*catalog["nodes"].values(), *catalog["sources"].values()]
    assert len(tables) > 50
    assert {stat for table in tables for stat in table["stats"]} == {"has_stats"}
    assert not any(table["stats"]["has_stats"]["value"] for table in tables)


def test_docs_reuse_the_build_only_when_the_target_holds_a_build(tmp_path):
    assert not dbt_docs.last_invocation_built(tmp_path)
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "run_results.json").write_text(json.dumps({"args": {"which": "generate"}}), encoding="utf-8")
    assert not dbt_docs.last_invocation_built(tmp_path)
    (tmp_path / "run_results.json").write_text(json.dumps({"args": {"which": "build"}}), encoding="utf-8")
    assert dbt_docs.last_invocation_built(tmp_path)


# --- Great Expectations' Data Docs ----------------------------------------------------------------


def test_data_docs_list_every_raw_suite_run_with_a_page_for_each(built):
    assert built.gx_index == built.lake / "docs" / "great_expectations" / "index.html"
    index = built.gx_index.read_text(encoding="utf-8")
    site = built.gx_index.parent
    assert len(RAW_SUITES) == len(built.raw_verdicts) == 6
    for verdict in built.raw_verdicts:
        assert f"expectations/{verdict.suite}.html" in index
        (page,) = (site / "validations" / verdict.suite).rglob("*.html")
        assert page.relative_to(site).as_posix() in index
        text = html.unescape(page.read_text(encoding="utf-8"))
        assert f"Data asset: {verdict.table}" in text
        assert "Succeeded" in text


def test_no_data_docs_page_holds_a_name_an_email_a_pseudonym_or_free_text(built):
    assert len(built.manifest.names) > 100 and len(built.pseudonyms) > 1000 and len(built.free_texts) > 100
    one_of_each = [min(built.pseudonyms), built.manifest.emails[0], built.manifest.names[0], min(built.free_texts)]
    assert set(one_of_each) <= set(leaked(f"<td>{html.escape(' | '.join(one_of_each))}</td>", built))
    pages = sorted(built.gx_index.parent.rglob("*.html"))
    assert len(pages) == 1 + 2 * len(RAW_SUITES)
    assert {str(page.relative_to(built.gx_index.parent)): leaked(page.read_text("utf-8"), built) for page in pages} == {
        str(page.relative_to(built.gx_index.parent)): [] for page in pages
    }


def test_building_the_docs_tries_no_network_connection(built):
    assert built.connections_tried == []


def test_data_docs_would_show_cell_values_without_the_scrub_and_do_not_with_it(tmp_path, monkeypatch):
    """A suite of checks whose raw GX result quotes cells: a most common value, a column minimum, and the
    error text of a mean over names. Rendered unscrubbed, the page shows them; scrubbed, it does not."""
    suites = tmp_path / "suites"
    suites.mkdir()
    expectations = [
        ("expect_column_most_common_value_to_be_in_set", {"column": "name", "value_set": ["nobody"]}),
        ("expect_column_min_to_be_between", {"column": "person_code", "min_value": 0, "max_value": 10}),
        ("expect_column_mean_to_be_between", {"column": "name", "min_value": 0}),
        ("expect_column_values_to_be_in_set", {"column": "name", "value_set": ["nobody"]}),
        ("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 10}),
    ]
    document = {
        "name": "people_probe",
        "meta": {"stage": "raw", "table": "raw.people"},
        "expectations": [
            {"type": check, "kwargs": kwargs, "meta": {"severity": "blocking", "description": check}}
            for check, kwargs in expectations
        ],
    }
    (suites / "people_probe.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv(gate.EXPECTATIONS_DIR_ENV, str(suites))
    frame = pd.DataFrame({"name": ["Karen Mortensen", "Ib Sørensen", "Karen Mortensen"], "person_code": [7304615] * 3})
    cells = ["Karen Mortensen", "Ib Sørensen", "7304615"]

    scrubbed = gate.validate_frame("people_probe", frame)
    with monkeypatch.context() as patch:
        patch.setattr(gate, "scrub_validation_result", lambda result, table=None: result)
        unscrubbed = gate.validate_frame("people_probe", frame)

    def shown(verdict: gate.SuiteVerdict, name: str) -> str:
        index = data_docs.build_gx_data_docs([verdict], tmp_path / name)
        return html.unescape("".join(page.read_text("utf-8") for page in index.parent.rglob("*.html")))

    raw_text = shown(unscrubbed, "unscrubbed")
    assert [cell for cell in cells if cell in raw_text] == cells  # the probe can see a leak
    text = shown(scrubbed, "scrubbed")
    assert [cell for cell in cells if cell in text] == []
    assert "raw.people" in text and "3 unexpected values found" in text  # counts stay
    assert gate.EXCEPTION_LEFT_OUT in text
    assert [cell for cell in cells if cell in json.dumps(scrubbed.validation_result, ensure_ascii=False)] == []


def test_the_scrubbed_result_keeps_counts_and_safe_statistics_only():
    result = {
        "success": False,
        "suite_name": "s",
        "statistics": {"evaluated_expectations": 3},
        "results": [
            {
                "success": False,
                "expectation_config": {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "c"}},
                "result": {
                    "element_count": 4,
                    "unexpected_count": 2,
                    "unexpected_percent": 50.0,
                    "partial_unexpected_list": ["cell"],
                    "partial_unexpected_counts": [{"value": "cell", "count": 2}],
                    "partial_unexpected_index_list": [1],
                    "unexpected_list": ["cell"],
                    "unexpected_index_list": [1],
                    "unexpected_index_query": "df.filter(c == 'cell')",
                    "details": {"value_counts": [{"value": "cell", "count": 2}]},
                },
                "exception_info": {"raised_exception": False, "exception_message": None, "exception_traceback": None},
            },
            {
                "success": False,
                "expectation_config": {"type": "expect_column_max_to_be_between", "kwargs": {"column": "c"}},
                "result": {"observed_value": "cell"},
                "exception_info": {"m": {"raised_exception": True, "exception_message": "bad 'cell'"}},
            },
            {
                "success": True,
                "expectation_config": {"type": "expect_table_row_count_to_be_between", "kwargs": {}},
                "result": {"observed_value": 4},
                "exception_info": {"raised_exception": False},
            },
        ],
        "meta": {
            "batch_spec": {"batch_data": "PandasDataFrame"},
            "batch_markers": {"ge_load_time": "t", "pandas_data_fingerprint": "f00d"},
        },
    }
    scrubbed = gate.scrub_validation_result(result, "raw.t")
    assert "cell" not in json.dumps(scrubbed) and "f00d" not in json.dumps(scrubbed)
    in_set, maximum, rows = scrubbed["results"]
    assert in_set["result"] == {"element_count": 4, "unexpected_count": 2, "unexpected_percent": 50.0}
    assert maximum["result"] == {}
    assert maximum["exception_info"] == {
        "raised_exception": True,
        "exception_message": gate.EXCEPTION_LEFT_OUT,
        "exception_traceback": "",
    }
    assert rows["result"] == {"observed_value": 4}
    assert scrubbed["meta"]["active_batch_definition"]["data_asset_name"] == "raw.t"
