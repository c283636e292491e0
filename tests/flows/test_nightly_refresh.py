"""The nightly refresh end to end on the embedded sample: real Prefect, DuckDB, dbt and Great Expectations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.lakes import REPO, published_tables, using_lake

pytestmark = pytest.mark.end_to_end

REFERENCE = REPO / "dbt_project" / "seeds" / "municipalities.csv"
GROUPS = REPO / "dbt_project" / "seeds" / "kommunegrupper.csv"
DBT_PROJECT = REPO / "dbt_project"


# --- an independent recomputation of the marts, straight from the generated landing files ---------


def heads_from_export(export: Path) -> pd.DataFrame:
    """One row per invited sector-area head, read from SurveyXact's files with pandas alone, by the
    resubmission rule: the latest completed record, else the latest partial one, else the latest record."""
    frame = pd.read_csv(export / "dataset.csv", sep="\t", encoding="utf-16", dtype=str, keep_default_na=False)
    status_columns = sorted(column for column in frame if column.startswith("stato_"))
    status = frame[status_columns].astype(int).to_numpy().argmax(axis=1) + 1
    times = [pd.to_datetime(frame[column].replace("", None)) for column in ("closetim", "modified", "created")]
    frame = pd.DataFrame(
        {
            "answering": pd.Series(status).isin([3, 4]),
            "completed": pd.Series(status) == 4,
            "record_time": times[0].fillna(times[1]).fillna(times[2]),
            "rid": frame["responde"].astype(int),
            "kommune": frame["kommune"].astype(int),
            "sektor": frame["sektor"].astype(int),
        }
    )
    ordered = frame.sort_values(["completed", "answering", "record_time", "rid"], ascending=False, na_position="last")
    return ordered.groupby(["kommune", "sektor"], as_index=False).first()


def statbank_answer(landing: Path, table: str) -> pd.DataFrame:
    """A landed Statbank CSV answer (codes), read with pandas alone: ';', BOM, decimal comma."""
    (path,) = sorted((landing / "statbank" / "api").glob(f"{table}_*Z.csv"))[-1:]
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def municipality_groups() -> pd.DataFrame:
    """Statistics Denmark's classification file read by its row order: a level-1 line opens a group."""
    frame = pd.read_csv(GROUPS, sep=";", dtype=str, keep_default_na=False)
    frame["group"] = frame["KODE"].where(frame["NIVEAU"] == "1").ffill()
    frame["group_name"] = frame["TITEL"].where(frame["NIVEAU"] == "1").ffill()
    members = frame[frame["NIVEAU"] == "2"]
    return pd.DataFrame(
        {"group": members["group"].astype(int).to_numpy(), "group_name": members["group_name"].to_numpy()},
        index=members["KODE"].astype(int).to_numpy(),
    )


def expected_profile(landing: Path) -> pd.DataFrame:
    """municipality_profile recomputed: the latest wave's heads (the 2019 follow-up), FOLK1A at the
    wave's reference quarter (2019K1, both sexes), ARE207 on 1 January 2019, and the group file."""
    heads = heads_from_export(landing / "survey" / "opfoelgning_2019")
    reference = pd.read_csv(REFERENCE)
    population = statbank_answer(landing, "FOLK1A")
    population = population[(population["KØN"] == "TOT") & (population["TID"] == "2019K1")]
    population = population.assign(kommunekode=population["OMRÅDE"].astype(int)).set_index("kommunekode")
    area = statbank_answer(landing, "ARE207")
    area = area[(area["TID"] == "2019") & (area["INDHOLD"] != "..")]
    area = area.assign(
        kommunekode=area["OMRÅDE"].astype(int), km2=area["INDHOLD"].str.replace(",", ".").astype(float)
    ).set_index("kommunekode")

    per_municipality = heads.groupby("kommune").agg(invited=("sektor", "nunique"), answering=("answering", "sum"))
    profile = reference.set_index("kommunekode").join(per_municipality)
    profile["population"] = population["INDHOLD"].astype(int)
    profile["km2"] = area["km2"]
    profile["density"] = profile["population"] / profile["km2"]
    profile = profile.join(municipality_groups())
    profile["share"] = profile["answering"] / profile["invited"]
    return profile


# --- the happy path --------------------------------------------------------------------------------


def test_published_file_answers_98_municipalities(refreshed_lake):
    lake, _, report = refreshed_lake
    published = lake / "published" / "analytics.duckdb"
    connection = duckdb.connect(str(published), read_only=True)
    try:
        assert connection.execute("select count(*) from municipality_profile").fetchall() == [(98,)]
    finally:
        connection.close()
    assert {"municipality_profile", "survey_coverage", "partner_collaboration"} <= set(report.row_counts)


def test_first_query_printed_for_analysts_runs_on_the_published_file(refreshed_lake):
    from samskab.cli import FIRST_QUERY

    lake, _, _ = refreshed_lake
    connection = duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True)
    try:
        rows = connection.execute(FIRST_QUERY).fetchall()
    finally:
        connection.close()
    assert [row[0] for row in rows] == sorted(
        ["Region Hovedstaden", "Region Midtjylland", "Region Nordjylland", "Region Sjælland", "Region Syddanmark"]
    )
    assert sum(row[2] for row in rows) == 98 * 8


def test_municipality_profile_equals_an_independent_pandas_recomputation(refreshed_lake):
    """The survey marts have their own recomputation (tests/build/test_study_marts_recomputed.py); this one is the
    municipality profile: the latest wave's heads per municipality beside FOLK1A's latest quarter."""
    lake, _, _ = refreshed_lake
    want = expected_profile(lake / "landing").sort_index()
    profile = published_tables(lake / "published" / "analytics.duckdb", ["municipality_profile"])[
        "municipality_profile"
    ]
    profile = profile.set_index("municipality_code").sort_index()
    assert len(profile) == 98
    assert profile["n_sector_areas_invited"].tolist() == want["invited"].astype(int).tolist()
    assert profile["n_sector_areas_answering"].tolist() == want["answering"].astype(int).tolist()
    assert profile["population"].tolist() == want["population"].tolist()
    assert (profile["population_quarter"] == "2019K1").all() and (profile["reference_quarter"] == "2019K1").all()
    assert np.allclose(profile["area_km2"], want["km2"]) and (profile["area_year"] == 2019).all()
    assert np.allclose(profile["population_density"], want["density"])
    assert profile["municipality_group_code"].tolist() == want["group"].tolist()
    assert profile["municipality_group_name"].tolist() == want["group_name"].tolist()
    assert profile["province_code"].tolist() == want["landsdel_kode"].tolist()
    assert profile.groupby("municipality_group_code").size().to_dict() == {1: 24, 2: 3, 3: 16, 4: 24, 5: 31}
    assert np.allclose(profile["share_sector_areas_answering"], want["share"])
    assert 0.25 < profile["n_sector_areas_answering"].sum() / profile["n_sector_areas_invited"].sum() < 0.65


def test_no_name_or_email_from_the_sample_reaches_the_published_file(refreshed_lake):
    lake, manifest, _ = refreshed_lake
    assert len(manifest.emails) > 700 and len(manifest.names) > 100
    connection = duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True)
    try:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'analytics'"
        ).fetchall()
        text = []
        for schema, table in tables:
            frame = connection.execute(f'select * from "{schema}"."{table}"').df()
            text += [str(value) for column in frame.columns for value in frame[column].dropna().unique()]
    finally:
        connection.close()
    assert len(tables) >= 9  # the marts and the meta schema
    corpus = "\n".join(text).casefold()
    leaked = [value for value in (*manifest.names, *manifest.emails) if value.casefold() in corpus]
    assert leaked == []
    assert "@" not in corpus


def test_flow_run_logs_and_artifacts_say_what_happened_and_name_no_person(refreshed_lake):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    _, manifest, report = refreshed_lake
    APILogWorker.drain_all(timeout=30)  # logs travel to the server in batches
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[report.run_id])))
        artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[report.run_id])))
    messages = "\n".join(log.message for log in logs)
    assert "no rows rejected" in messages, messages
    assert "Quality gate PASSED" in messages
    assert {artifact.key for artifact in artifacts} == {
        "registry-fetch",
        "landing-files",
        "loads",
        "quality-raw",
        "quality-marts",
        "dbt-nodes",
        "row-counts",
        "refresh-summary",
    }
    by_key = {artifact.key: artifact for artifact in artifacts}
    nodes = json.loads(by_key["dbt-nodes"].data)  # every dbt node: model, test or seed, status, time, severity
    assert {node["resource_type"] for node in nodes} == {"seed", "model", "test", "unit_test"}
    built = json.loads((refreshed_lake[0] / "warehouse" / "dbt_target" / "manifest.json").read_text(encoding="utf-8"))
    n_tests = sum(node["resource_type"] == "test" for node in built["nodes"].values())
    assert sum(node["resource_type"] == "test" and node["status"] == "pass" for node in nodes) == n_tests > 150
    assert {node["severity"] for node in nodes} == {"blocking", "warning"}
    counts = {row["table"]: row for row in json.loads(by_key["row-counts"].data)}
    assert counts["municipality_profile"]["rows"] == 98 and counts["municipality_profile"]["change"] == "first publish"
    summary = by_key["refresh-summary"].data
    assert "dbt docs (lineage graph)" in summary and "quality checks (Data Docs, opens offline)" in summary
    # Great Expectations' Data Docs need a network for their index: the quality checks' page links them.
    assert "Great Expectations Data Docs" not in summary and "great_expectations/" not in summary
    assert "change since the last publish" in summary
    docs = refreshed_lake[0] / "published" / "docs"  # built beside the published file on every publish
    assert (docs / "dbt" / "index.html").is_file() and (docs / "great_expectations" / "index.html").is_file()
    # No `samskab serve` runs for this lake: the summary names the files and the commands, no file:// link.
    assert "`published/docs/dbt/index.html`" in summary and "file:" not in summary
    assert "`published/docs/validation.html`" in summary
    (fetched,) = [artifact for artifact in artifacts if artifact.key == "registry-fetch"]
    assert "FOLK1A: unchanged since 2026-11-26" in str(fetched.data)  # the sample lake fetched it before
    assert "ARE207: unchanged since 2026-11-26" in messages
    shown = messages + "\n".join(str(artifact.data) for artifact in artifacts)
    assert [value for value in (*manifest.names, *manifest.emails) if value in shown] == []


def test_lineage_names_run_code_inputs_counts_and_verdict(refreshed_lake):
    lake, _, report = refreshed_lake
    meta = published_tables(
        lake / "published" / "analytics.duckdb",
        ["meta.runs", "meta.input_files", "meta.row_counts", "meta.quality_checks"],
    )
    run = meta["meta.runs"].iloc[0]
    assert run["run_id"] == report.run_id and bool(run["gate_passed"])
    assert run["code_version"]
    files = meta["meta.input_files"].set_index("file")
    landing = lake / "landing"
    for path in [*landing.glob("survey/*/*.csv"), *landing.glob("statbank/api/*"), *landing.glob("cases/*.csv")]:
        relative = path.relative_to(landing).as_posix()
        assert files.loc[relative, "sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    counts = meta["meta.row_counts"].set_index("table_name")["n_rows"]
    # partner_collaboration: 2 waves x (all + 8 sector areas) x 8 partner types x 4 frequencies
    assert counts["municipality_profile"] == 98 and counts["partner_collaboration"] == 2 * 9 * 8 * 4
    checks = meta["meta.quality_checks"]
    # GX checks raw deliveries before dbt; dbt's tests keep the structure; drift has nothing to compare yet.
    assert set(checks["stage"]) == {"raw", "dbt"}
    assert set(checks.loc[checks["stage"] == "dbt", "severity"]) == {"blocking", "warning"}
    assert checks.loc[checks["severity"] == "blocking", "success"].all()


def test_status_says_when_and_from_what_the_file_was_built(refreshed_lake, capsys):
    from samskab.cli import main

    lake, _, report = refreshed_lake
    with using_lake(lake):
        assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert report.run_id in out and "Last refresh: " in out and ": published.\n  PASSED: all " in out
    assert "STALE" not in out and "DID NOT FINISH" not in out
    assert "survey/samskabelse_2016/dataset.csv" in out and "municipality_profile (98 rows)" in out
    assert "  snapshots: " in out and " kept, " in out and "read one with `samskab sql --as-of DAY`" in out
