"""Erasure in the raw layer (issue 20): a respondent or an informant erased on request leaves raw, every
other row stays as it was, and neither a delivery read again nor a raw layer rebuilt brings them back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from samskab.common.settings import Settings
from samskab.ingest import erasure
from samskab.ingest.deliveries import ingest_landing_zone, open_warehouse
from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import make_sample_lake

KEY = Pseudonymiser(b"e" * 32)
RESPONDENT_TABLES = ("survey_respondents", "survey_answers", "survey_open_answers")


def sample_settings(tmp_path: Path) -> Settings:
    lake, _ = make_sample_lake(tmp_path, waves=("2016",))
    settings = Settings(data_lake=lake)
    ingest_landing_zone(settings, "r1", KEY)
    return settings


def heads(settings: Settings) -> pd.DataFrame:
    """The 2016 export's records as typed: respondent id, name and e-mail."""
    dataset = settings.landing_dir / "survey" / "samskabelse_2016" / "dataset.csv"
    frame = pd.read_csv(dataset, encoding="utf-16", sep="\t", dtype=str)
    return frame[["responde", "name", "email"]].dropna().rename(columns={"responde": "respondent"})


def raw_rows(settings: Settings) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return {
            table: connection.execute(f"select * exclude (source_row) from raw.{table} order by all").df()
            for table in (*RESPONDENT_TABLES, "case_informants", "fieldwork_activities")
        }


def erase(settings: Settings, person: erasure.Person):
    connection = open_warehouse(settings)
    try:
        return erasure.erase(connection, person, KEY)
    finally:
        connection.close()


def test_an_erased_respondent_leaves_raw_every_other_row_stays_and_a_rebuilt_raw_layer_keeps_them_out(tmp_path):
    settings = sample_settings(tmp_path)
    typed = heads(settings)
    head = typed.iloc[3]
    # every record of the head (a head may have answered more than once): by the name or the e-mail
    records = set(typed[(typed["name"] == head["name"]) | (typed["email"] == head["email"])]["respondent"])
    before = raw_rows(settings)
    person = erasure.respondent_by_identity(KEY, head["name"], head["email"])

    connection = open_warehouse(settings)
    try:
        found = erasure.find(connection, person)  # what a dry run shows: nothing changes
    finally:
        connection.close()
    assert found.rows["survey_respondents"] == len(records) and found.rows["survey_answers"] > 10
    assert raw_rows(settings)["survey_answers"].equals(before["survey_answers"])

    erasure_id, erased = erase(settings, person)

    after = raw_rows(settings)
    assert erased.rows == found.rows
    for table in RESPONDENT_TABLES:
        assert not records & set(after[table]["respondent_id"])
        kept = before[table][~before[table]["respondent_id"].isin(records)].reset_index(drop=True)
        pd.testing.assert_frame_equal(after[table], kept)  # every other row unchanged
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        logged = connection.execute("select * from privacy.erasures").fetchall()
        suppressed = connection.execute("select kind from privacy.suppressed order by 1").fetchall()
    assert [row[0] for row in logged] == [erasure_id]
    assert {row[0] for row in suppressed} == {"email", "name", "respondent"}
    text = repr(logged)
    assert head["name"] not in text and head["email"] not in text  # by pseudonym and date, never by name

    # A new version of the platform drops raw and reads every delivery again: the person stays out.
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("delete from raw.layout")
    stray = settings.warehouse_path.with_name(settings.warehouse_path.name + ".compacting")
    stray.write_bytes(b"a compaction killed half way")  # what a kill during an erasure's compaction leaves
    report = ingest_landing_zone(settings, "r2", KEY)
    assert report.raw_layer_rebuilt and not stray.exists()
    assert any("rows of people erased on request were withheld" in note for load in report.loads for note in load.notes)
    again = raw_rows(settings)
    for table in RESPONDENT_TABLES:
        pd.testing.assert_frame_equal(again[table], after[table])


def test_an_erased_informant_leaves_raw_and_the_activities_that_listed_them(tmp_path):
    from tests.ingest.test_ingest import informant_names

    settings = sample_settings(tmp_path)
    before = raw_rows(settings)
    pseudonyms = before["case_informants"].set_index("informant_pseudonym")["informant_id"]
    listed = before["fieldwork_activities"]["informant_ids"].dropna().str.split(",").explode()
    name = next(n for n in sorted(informant_names(settings)) if pseudonyms[KEY("informant", n)] in set(listed))
    informant_id = pseudonyms[KEY("informant", name)]

    erase(settings, erasure.informant_by_name(KEY, name))

    after = raw_rows(settings)
    assert KEY("informant", name) not in set(after["case_informants"]["informant_pseudonym"])
    assert len(after["case_informants"]) == len(before["case_informants"]) - 1
    ids = after["fieldwork_activities"]["informant_ids"].dropna().str.split(",").explode()
    assert informant_id not in set(ids) and len(after["fieldwork_activities"]) == len(before["fieldwork_activities"])
    for table in RESPONDENT_TABLES:
        pd.testing.assert_frame_equal(after[table], before[table])


def test_a_respondent_named_by_the_exports_id_is_erased_with_their_name_and_email_pseudonyms(tmp_path):
    settings = sample_settings(tmp_path)
    head = heads(settings).iloc[5]

    _, erased = erase(settings, erasure.respondent_by_id(head["respondent"]))

    assert erased.pseudonyms["email"] == {KEY("email", head["email"])}
    assert erased.pseudonyms["name"] == {KEY("name", head["name"])}
    assert erased.rows["survey_respondents"] >= 1


def test_another_key_is_refused_while_erasures_of_the_old_one_stand(tmp_path):
    settings = sample_settings(tmp_path)
    head = heads(settings).iloc[0]
    erase(settings, erasure.respondent_by_identity(KEY, None, head["email"]))

    with pytest.raises(erasure.KeyChangeWouldUnerase) as refused:
        ingest_landing_zone(settings, "r2", Pseudonymiser(b"n" * 32))
    assert "1 erasure(s)" in str(refused.value) and head["email"] not in str(refused.value)
    # nothing was dropped: the erased person is still out, the rest still in
    assert head["respondent"] not in set(raw_rows(settings)["survey_respondents"]["respondent_id"])
    assert len(raw_rows(settings)["survey_respondents"]) > 700


def test_an_erased_heads_name_is_marked_in_other_heads_open_answers_and_stays_marked_when_read_again(tmp_path):
    """Another head wrote "kontakt: <name>": the name is only in clear in raw, so erasing the head marks it
    there as "[navn]", found by the name's pseudonym (the suppression list holds no name)."""
    settings = sample_settings(tmp_path)
    typed = heads(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        answers = connection.execute("select export_id, respondent_id, answer_text from raw.survey_open_answers").df()
    mentioned = next(
        name
        for name in typed["name"]
        if answers["answer_text"].str.contains(name, regex=False).any()
        and (typed["name"] == name).sum() == 1
        and not answers[answers["answer_text"].str.contains(name, regex=False)]["respondent_id"]
        .isin(typed[typed["name"] == name]["respondent"])
        .all()
    )

    _, erased = erase(settings, erasure.respondent_by_identity(KEY, mentioned, None))

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        after = connection.execute("select answer_text from raw.survey_open_answers").df()["answer_text"]
    assert not after.str.contains(mentioned, regex=False).any()
    assert after.str.contains("kontakt: [navn]", regex=False).any()
    assert any("name of an erased head marked" in table for table in erased.rows)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("delete from raw.layout")  # read again whole: the name is marked again
    ingest_landing_zone(settings, "r2", KEY)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        again = connection.execute("select answer_text from raw.survey_open_answers").df()["answer_text"]
    assert not again.str.contains(mentioned, regex=False).any()
