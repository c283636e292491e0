"""A build costs what changed (samskab/build/state.py, through build_marts): after a build that succeeded,
the next builds only the models downstream of the raw tables that changed and of the code that changed,
with their tests, and reports the tests it did not run with the result of the build that ran them. A
small dbt project of its own (two raw sources, a model on each and one on both), so each build takes a
second or two; the refresh's own partial build is proved against a forced one in
tests/flows/test_partial_refresh.py."""

from __future__ import annotations

from pathlib import Path

import duckdb

from samskab.build import state
from samskab.build.dbt import build_marts
from samskab.common.settings import Settings

SOURCES = """version: 2
sources:
  - name: survey
    schema: raw
    tables:
      - name: answers
        data_tests:
          - required_and_unique:
              name: required_and_unique_answers
              arguments:
                not_null: [respondent]
                unique: [[respondent]]
  - name: cases
    schema: raw
    tables:
      - name: activities
"""

MODELS = """version: 2
models:
  - name: answer_counts
    columns:
      - name: n
        data_tests: [not_null]
  - name: activity_counts
    columns:
      - name: n
        data_tests: [not_null]
  - name: both
    data_tests:
      - required_and_unique:
          arguments:
            not_null: [answers, activities]
"""


def small_project(root: Path) -> Settings:
    project = root / "project"
    (project / "models").mkdir(parents=True)
    (project / "tests" / "generic").mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[2] / "dbt_project"
    generic = shipped / "tests" / "generic" / "required_and_unique.sql"
    (project / "tests" / "generic" / generic.name).write_bytes(generic.read_bytes())
    (project / "macros").mkdir()
    macro = shipped / "macros" / "broken_checks.sql"  # the end of the query required_and_unique shares
    (project / "macros" / macro.name).write_bytes(macro.read_bytes())
    (project / "dbt_project.yml").write_text(
        'name: small\nversion: "1.0.0"\nprofile: samskab\nflags:\n  send_anonymous_usage_stats: false\n'
        "models:\n  small:\n    +materialized: table\n",
        encoding="utf-8",
    )
    (project / "profiles.yml").write_text(
        "samskab:\n  target: warehouse\n  outputs:\n    warehouse:\n      type: duckdb\n"
        "      path: \"{{ env_var('SAMSKAB_WAREHOUSE_PATH') }}\"\n      threads: 1\n",
        encoding="utf-8",
    )
    (project / "models" / "_sources.yml").write_text(SOURCES, encoding="utf-8")
    (project / "models" / "_models.yml").write_text(MODELS, encoding="utf-8")
    (project / "models" / "answer_counts.sql").write_text(
        "select count(*) as n from {{ source('survey', 'answers') }}\n", encoding="utf-8"
    )
    (project / "models" / "activity_counts.sql").write_text(
        "select count(*) as n from {{ source('cases', 'activities') }}\n", encoding="utf-8"
    )
    (project / "models" / "both.sql").write_text(
        "select a.n as answers, b.n as activities from {{ ref('answer_counts') }} a, {{ ref('activity_counts') }} b\n",
        encoding="utf-8",
    )
    lake = root / "data_lake"
    (lake / "warehouse").mkdir(parents=True)
    settings = Settings(data_lake=lake, dbt_project_dir=project)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("create schema raw")
        connection.execute("create table raw.answers as select range as respondent from range(3)")
        connection.execute("create table raw.activities as select range as activity from range(2)")
    return settings


def _ran(outcome) -> set[str]:
    return {node.name for node in outcome.nodes if node.resource_type == "model"}


def _execute(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(sql)


def _both(settings: Settings) -> tuple:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute("select answers, activities from main.both").fetchone()


def test_a_build_runs_only_what_changed_since_the_last_that_succeeded(tmp_path):
    settings = small_project(tmp_path)

    first = build_marts(settings, "run-1")
    assert first.success and first.plan.full and "records no build" in first.plan.reason
    assert _ran(first) == {"answer_counts", "activity_counts", "both"}
    n_tests = first.n_tests_passed
    assert n_tests == 4 and not first.kept

    # Nothing changed: nothing is built, every test is reported with the first build's result.
    again = build_marts(settings, "run-2")
    assert again.success and not again.plan.full and again.plan.changed_sources == ()
    assert _ran(again) == set() and again.n_tests_passed == 0
    assert len(again.kept) == n_tests and {test.run_id for test in again.kept} == {"run-1"}

    # A new row in one raw table: that source's models and what is built on them, with their tests.
    _execute(settings, "insert into raw.activities values (7)")
    changed = build_marts(settings, "run-3")
    assert changed.plan.changed_sources == ("cases.activities",)
    assert _ran(changed) == {"activity_counts", "both"}
    assert _both(settings) == (3, 3)
    kept = {test.name for test in changed.kept}
    assert kept == {"not_null_answer_counts_n", "required_and_unique_answers"}, kept
    assert changed.n_tests_passed + len(changed.kept) == n_tests

    # A code change in one model: that model and what is built on it (dbt's state comparison).
    model = settings.dbt_project_dir / "models" / "answer_counts.sql"
    model.write_text("select count(*) + 0 as n from {{ source('survey', 'answers') }}\n", encoding="utf-8")
    edited = build_marts(settings, "run-4")
    assert edited.plan.changed_sources == () and _ran(edited) == {"answer_counts", "both"}

    # Forced: everything, whatever changed.
    forced = build_marts(settings, "run-5", force=True)
    assert forced.plan.full and _ran(forced) == {"answer_counts", "activity_counts", "both"} and not forced.kept


def test_a_build_that_failed_is_followed_by_a_whole_one(tmp_path):
    """A failed build may have rebuilt some models from data later taken back: the next build is whole, so
    no model stays built from it."""
    settings = small_project(tmp_path)
    assert build_marts(settings, "run-1").success

    _execute(settings, "insert into raw.answers values (null)")
    failed = build_marts(settings, "run-2")
    assert not failed.success and _ran(failed) == {"answer_counts", "both"}

    _execute(settings, "delete from raw.answers where respondent is null")  # the delivery is taken back
    after = build_marts(settings, "run-3")
    assert after.success and after.plan.full and "the last one failed" in after.plan.reason
    assert _ran(after) == {"answer_counts", "activity_counts", "both"}


def test_a_model_gone_from_the_warehouse_or_a_lost_record_means_a_whole_build(tmp_path):
    settings = small_project(tmp_path)
    assert build_marts(settings, "run-1").success

    _execute(settings, "drop table main.activity_counts")
    dropped = build_marts(settings, "run-2")
    assert dropped.plan.full and "lacks 1 models" in dropped.plan.reason and dropped.success

    (state.state_dir(settings) / "manifest.json").write_text("{}", encoding="utf-8")
    lost = build_marts(settings, "run-3")
    assert lost.plan.full and "manifest of the last build" in lost.plan.reason


def test_a_table_digest_changes_with_its_rows_or_columns_never_with_their_order(tmp_path):
    settings = small_project(tmp_path)
    sources = {"survey.answers": ("raw", "answers"), "cases.gone": ("raw", "gone")}
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        before = state.source_digests(connection, sources)
        connection.execute("create or replace table raw.answers as select * from raw.answers order by respondent desc")
        reordered = state.source_digests(connection, sources)
        connection.execute("update raw.answers set respondent = 5 where respondent = 2")
        edited = state.source_digests(connection, sources)
        connection.execute("alter table raw.answers alter respondent type double")
        retyped = state.source_digests(connection, sources)
    assert before == reordered and before["cases.gone"] == "missing"
    assert len({before["survey.answers"], edited["survey.answers"], retyped["survey.answers"]}) == 3
