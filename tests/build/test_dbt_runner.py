"""How the platform calls dbt (samskab/build/dbt.py): the project parsed once per process and version of its
files, and a failed `required_and_unique` or `column_bounds` test named by what failed, counting rows. A small
dbt project of its own, so each parse takes a second; the whole project is built by the refresh tests."""

from __future__ import annotations

from pathlib import Path

from samskab.build.dbt import DbtOutcome, build_marts, invoke_dbt
from samskab.common.settings import Settings
from tests.lakes import REPO

GENERIC_TESTS = [
    REPO / "dbt_project" / "tests" / "generic" / f"{name}.sql" for name in ("required_and_unique", "column_bounds")
]
SHARED_MACROS = [REPO / "dbt_project" / "macros" / "broken_checks.sql"]  # the query the one-query tests share


def small_project(root: Path) -> Settings:
    """A dbt project with one seed of heads (one without a municipality, one without a sector area, one id
    twice, once with a municipality and sector area another head has too), the platform's
    required_and_unique and column_bounds tests and an accepted_values test on it, and a data lake
    for its warehouse."""
    project = root / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "tests" / "generic").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text(
        'name: small\nversion: "1.0.0"\nprofile: samskab\nflags:\n  send_anonymous_usage_stats: false\n',
        encoding="utf-8",
    )
    (project / "profiles.yml").write_text(
        "samskab:\n  target: warehouse\n  outputs:\n    warehouse:\n      type: duckdb\n"
        "      path: \"{{ env_var('SAMSKAB_WAREHOUSE_PATH') }}\"\n      threads: 1\n",
        encoding="utf-8",
    )
    (project / "seeds" / "heads.csv").write_text(
        "head_id,municipality_code,sector_area\n1,101,Skole\n2,,Ældre\n3,147,\n3,101,Skole\n", encoding="utf-8"
    )
    (project / "seeds" / "_seeds.yml").write_text(
        "version: 2\nseeds:\n  - name: heads\n    data_tests:\n      - required_and_unique:\n"
        "          name: required_and_unique_heads\n          arguments:\n            not_null:\n"
        "              - head_id\n              - municipality_code\n              - sector_area\n"
        "            unique:\n              - [head_id]\n              - [municipality_code, sector_area]\n"
        "      - column_bounds:\n          name: bounds_heads\n          arguments:\n"
        "            ranges:\n              - {column: head_id, min_value: 1, max_value: 2}\n"
        "              - {column: municipality_code, min_value: 100}\n"
        "    columns:\n      - name: sector_area\n        data_tests:\n          - accepted_values:\n"
        "              arguments:\n                values: ['Skole']\n",
        encoding="utf-8",
    )
    for generic in GENERIC_TESTS:
        (project / "tests" / "generic" / generic.name).write_bytes(generic.read_bytes())
    for macro in SHARED_MACROS:
        (project / "macros" / macro.name).write_bytes(macro.read_bytes())
    (project / "models" / "first.sql").write_text("select 1 as n\n", encoding="utf-8")
    lake = root / "data_lake"
    (lake / "warehouse").mkdir(parents=True)
    return Settings(data_lake=lake, dbt_project_dir=project)


def test_the_project_is_parsed_once_per_version_of_its_files(tmp_path):
    settings = small_project(tmp_path)
    parse_file = settings.dbt_target_dir / "partial_parse.msgpack"

    first = invoke_dbt(settings, ["ls", "--resource-type", "model"])
    assert first.success and sorted(first.result) == ["small.first"]
    parsed_at = parse_file.stat().st_mtime_ns

    again = invoke_dbt(settings, ["ls", "--resource-type", "model"])
    assert again.success and sorted(again.result) == ["small.first"]
    assert parse_file.stat().st_mtime_ns == parsed_at, "the second command parsed the project again"

    (settings.dbt_project_dir / "models" / "second.sql").write_text("select 2 as n\n", encoding="utf-8")
    changed = invoke_dbt(settings, ["ls", "--resource-type", "model"])
    assert changed.success and sorted(changed.result) == ["small.first", "small.second"]
    assert parse_file.stat().st_mtime_ns != parsed_at


def test_a_failed_one_query_test_names_what_failed_and_counts_rows_only(tmp_path):
    settings = small_project(tmp_path)

    outcome: DbtOutcome = build_marts(settings)

    assert not outcome.success
    by_test = {failure.split(" ")[2]: failure for failure in outcome.failures}
    assert by_test["required_and_unique_heads"] == (
        "dbt test required_and_unique_heads fail: Got 4 results, configured to fail if != 0 "
        "(empty cells in municipality_code: 1 row; empty cells in sector_area: 1 row; "
        "key (head_id) repeated: 2 rows; key (municipality_code, sector_area) repeated: 2 rows)"
    )
    (node,) = [node for node in outcome.nodes if node.name == "required_and_unique_heads"]
    assert (node.status, node.failures, node.severity) == ("fail", 4, "blocking")
    assert by_test["bounds_heads"] == (
        "dbt test bounds_heads fail: Got 1 result, configured to fail if != 0 (head_id outside [1, 2]: 2 rows)"
    )
    # Another test's failing rows hold values: its message stays dbt's count of them.
    (values_test,) = [name for name in by_test if name.startswith("accepted_values_heads")]
    assert by_test[values_test].endswith("fail: Got 1 result, configured to fail if != 0")
    said = " ".join(outcome.failures)
    for value in ("101", "147", "Ældre"):
        assert value not in said


def test_a_node_stopped_by_the_machine_says_so_and_any_other_error_stays_in_the_log():
    """A model that failed because the disk filled or memory ran out is named with that cause in words (the
    refresh then says so, not "correct your inputs"); any other database error may quote the data, so its
    text stays in dbt's log."""
    from types import SimpleNamespace

    from samskab.build.dbt import machine_cause_in, safe_message

    full = SimpleNamespace(message='IO Error: Could not write file "warehouse.duckdb": File too large')
    memory = SimpleNamespace(message="Out of Memory Error: Failed to allocate block of 262144 bytes (bad allocation)")
    quoting = SimpleNamespace(message="Conversion Error: Could not convert string 'Jensine' to INT32")
    assert safe_message(full) == "stopped: a file grew larger than this machine allows (EFBIG)"
    assert safe_message(memory) == "stopped: the machine ran out of memory (ENOMEM)"
    assert machine_cause_in(quoting) is None and "Jensine" not in safe_message(quoting)
    assert "dbt.log" in safe_message(quoting)
