"""Erasure everywhere (issue 20): a respondent and an informant of the refreshed sample are erased; then
raw, the published file, the rollback's file, every snapshot, an export written afterwards, the docs and
Prefect's database are searched for them and hold nothing; a re-delivered export does not bring the
respondent back; every other row of the respondent-level tables is unchanged."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import STUDY_KEY, copy_lake, rewrite_dataset, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

KEY = Pseudonymiser(STUDY_KEY.encode())
PERSON_TABLES = ("survey_weights", "survey_answers_labelled", "collaborations", "survey_resubmissions")


def varchar_hits(path: Path, needles: set[str]) -> dict[str, int]:
    """Rows of each table of a DuckDB file with a text cell that contains any of `needles`."""
    hits = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where data_type = 'VARCHAR' "
            "and schema_name not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            condition = " or ".join(f'contains("{column}", ?)' for _ in needles)
            (n,) = connection.execute(
                f'select count(*) from "{schema}"."{table}" where {condition}', sorted(needles)
            ).fetchone()
            if n:
                hits[f"{schema}.{table}.{column}"] = n
    return hits


def byte_hits(paths: list[Path], needles: set[str]) -> list[str]:
    """Files whose bytes hold any of `needles` (as UTF-8 or UTF-16)."""
    encoded = [form for needle in needles for form in (needle.encode(), needle.encode("utf-16-le"))]
    found = []
    for path in paths:
        data = path.read_bytes()
        if any(form in data for form in encoded):
            found.append(str(path))
    return found


def heads(lake: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        lake / "landing" / "survey" / "samskabelse_2016" / "dataset.csv", encoding="utf-16", sep="\t", dtype=str
    )
    return frame[["responde", "name", "email"]].dropna().rename(columns={"responde": "respondent"})


def test_an_erased_respondent_and_informant_are_found_nowhere_and_a_redelivery_keeps_them_out(
    refreshed_lake, tmp_path, capsys
):
    from samskab.cli import main
    from samskab.ingest.deliveries import ingest_landing_zone
    from samskab.operate import erasure as operate_erasure
    from samskab.publish import snapshots
    from tests.ingest.test_ingest import informant_names

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    with (
        using_lake(lake) as settings,
        using_setting("SAMSKAB_PSEUDONYM_KEY", STUDY_KEY),
        using_setting("SAMSKAB_ORIGINALS_RETENTION_DAYS", "30"),  # the register below is past it
    ):
        # An earlier night's snapshot and the rollback's file, as a lake has them after some nights.
        (newest,) = snapshots.listed(settings)
        snapshots.keep(settings, published, "earlier-night", newest.published_at - timedelta(days=3))
        settings.previous_path.write_bytes(published.read_bytes())

        typed = heads(lake)
        counts = typed["name"].value_counts()
        head = typed[typed["name"].map(counts) == 1].iloc[0]  # a head whose name no other head has
        informant = sorted(informant_names(settings))[0]
        with duckdb.connect(str(published), read_only=True) as connection:
            before = {t: connection.execute(f"select * from {t}").df() for t in PERSON_TABLES}

        # The dry run says what would go, and changes nothing.
        bytes_before = published.read_bytes()
        assert main(["erase", "--name", head["name"], "--email", head["email"], "--dry-run"]) == 0
        dry = capsys.readouterr().out
        assert "would be removed" in dry and "Dry run: nothing was changed" in dry
        assert head["name"] not in dry and head["email"] not in dry
        assert published.read_bytes() == bytes_before

        # The case register was loaded 40 days ago: the refresh the erasure runs retires it (retention).
        with duckdb.connect(str(settings.warehouse_path)) as connection:
            connection.execute(
                "update raw.ingest_ledger set loaded_at = loaded_at - interval 40 days "
                "where file = 'cases/case_register.xlsx'"
            )

        # The informant (without the refresh), then the respondent (which builds the file again).
        erased_informant = operate_erasure.run(
            settings,
            operate_erasure.raw_erasure.informant_by_name(KEY, informant),
            KEY,
            dry_run=False,
        )
        assert erased_informant.erasure_id and erased_informant.found.rows["case_informants"] == 1
        assert main(["erase", "--name", head["name"], "--email", head["email"]]) == 0
        out = capsys.readouterr().out
        assert "Erasure " in out and "passed its quality gate and was published" in out, out
        assert head["name"] not in out and head["email"] not in out and informant not in out

        # retention: the register left the landing zone for retired_originals/; its rows are still published
        register = "cases/case_register.xlsx"
        assert not (settings.landing_dir / register).exists()
        assert (settings.retired_originals_dir / register).is_file()
        with duckdb.connect(str(published), read_only=True) as connection:
            assert connection.execute("select count(*) from case_activities").fetchone()[0] == 68
            assert connection.execute("select count(*) from meta.withdrawn_files").fetchone()[0] == 0

        with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
            pseudonyms = {row[0] for row in connection.execute("select pseudonym from privacy.suppressed").fetchall()}
        assert KEY("informant", informant) in pseudonyms and KEY("email", head["email"]) in pseudonyms
        assert main(["erase", "--list"]) == 0  # the log: by pseudonym and date, never by name
        listed = capsys.readouterr().out
        assert "2 erasure(s) on record" in listed and KEY("email", head["email"]) in listed
        assert head["name"] not in listed and informant not in listed
        clear = {head["name"], head["email"], informant}

        # raw: no row names them
        warehouse_raw = varchar_hits(settings.warehouse_path, pseudonyms | clear)
        assert set(warehouse_raw) <= {"privacy.suppressed.pseudonym", "privacy.erasures.pseudonyms"}, warehouse_raw
        # every published-zone file: the new published one, the rollback's, every snapshot
        files = operate_erasure.published_erasure.published_files(settings)
        assert len(files) >= 4 and settings.previous_path in files
        for path in files:
            assert varchar_hits(path, pseudonyms | clear) == {}, path
        assert byte_hits(files, pseudonyms | clear) == []
        rewritten = [path for path in files if operate_erasure.published_erasure.rewritten_on(path)]
        assert len(rewritten) >= 3  # the rollback's file and both snapshots of before
        # --as-of on a rewritten snapshot says so
        assert main(["sql", "--as-of", f"{newest.published_on - timedelta(days=3):%Y-%m-%d}", "select 1"]) == 0
        assert "to erase 2 person(s) on request" in capsys.readouterr().out  # the informant, the respondent

        # an export written afterwards, the docs, Prefect's database
        export = tmp_path / "export"
        assert main(["export", "--all", "--format", "csv", "--to", str(export)]) == 0
        capsys.readouterr()
        written = [p for p in export.rglob("*") if p.is_file()]
        docs = [p for p in settings.docs_dir.rglob("*") if p.is_file()]
        prefect = [p for p in Path(os.environ["PREFECT_HOME"]).rglob("*.db*") if p.is_file()]
        assert written and docs and prefect
        assert byte_hits(written + docs + prefect, pseudonyms | clear) == []
        # nothing outside the landing zone holds their name or e-mail in clear
        # (retired originals are originals: like the landing zone's, they hold names until archived or deleted)
        outside = [
            p
            for p in lake.rglob("*")
            if p.is_file() and not {"landing", "retired_originals"} & set(p.relative_to(lake).parts)
        ]
        assert byte_hits(outside, clear) == []

        # every other row unchanged
        with duckdb.connect(str(published), read_only=True) as connection:
            for table in ("survey_answers_labelled", "collaborations"):
                after = connection.execute(f"select * from {table}").df()
                kept = before[table][~before[table]["respondent_pseudonym"].isin(pseudonyms)]
                assert len(after) == len(kept) < len(before[table])
                key = ["respondent_pseudonym", *[c for c in after.columns if c.endswith(("_slot", "variable_name"))]]
                pd.testing.assert_frame_equal(
                    after.drop(columns=["weight"], errors="ignore").sort_values(key).reset_index(drop=True),
                    kept.drop(columns=["weight"], errors="ignore").sort_values(key).reset_index(drop=True),
                    check_dtype=False,
                )

        # the export delivered again (re-sorted): loaded, and the respondent stays out
        rewrite_dataset(lake / "landing" / "survey" / "samskabelse_2016", lambda header, rows: rows[::-1])
        report = ingest_landing_zone(settings, "redelivery", KEY)
        assert "loaded" in {load.state for load in report.loads if load.delivery == "survey/samskabelse_2016"}
        assert set(varchar_hits(settings.warehouse_path, pseudonyms)) <= {
            "privacy.suppressed.pseudonym",
            "privacy.erasures.pseudonyms",
        }
