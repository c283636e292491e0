"""The record of processing (issue 20): every source declares what becomes of its personal data, column
by column; a source that does not is refused here; the record drawn on every publish lists it all, with
the settings' controller, purpose and legal basis, and the modes the platform sets on each layer."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from samskab.common.settings import Settings
from samskab.ingest.sources.common import PSEUDONYMISED, PersonalData, RawTable
from samskab.ingest.sources.registry import SOURCES
from samskab.publish import processing_record


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.name)
def test_every_source_declares_a_treatment_for_each_identifying_column(source):
    assert processing_record.undeclared(source) == []
    columns = {f"{table.name}.{column}" for table in source.tables for column in table.column_names}
    for item in source.personal_data:
        assert set(item.raw_columns) <= columns, item  # a declaration names columns that exist


def test_the_survey_and_case_register_name_the_columns_that_identify_people():
    by_name = {source.name: processing_record.identifying_columns(source) for source in SOURCES}
    assert {"survey_respondents.email_pseudonym", "survey_open_answers.answer_text"} <= set(by_name["survey"])
    assert "case_informants.informant_pseudonym" in by_name["cases"]


def test_a_new_source_without_a_declared_treatment_is_refused():
    survey = next(source for source in SOURCES if source.name == "survey")
    contacts = RawTable("contacts", (("contact_email", "varchar"), ("contact_name", "varchar"), ("n", "integer")))
    new = dataclasses.replace(survey, name="contacts", tables=(contacts,), personal_data=None)
    assert processing_record.undeclared(new) == ["contacts: declares no personal data (personal_data=None)"]
    half = dataclasses.replace(new, personal_data=(PersonalData("e-mail", PSEUDONYMISED, ("contacts.contact_email",)),))
    assert processing_record.undeclared(half) == ["contacts: contacts.contact_name"]


def test_the_record_lists_every_source_and_its_columns_and_the_settings_and_modes(refreshed_lake, tmp_path):
    lake = refreshed_lake[0]
    warehouse = lake / "warehouse" / "warehouse.duckdb"
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o600  # raw: its owner's only
    assert stat.S_IMODE(warehouse.parent.stat().st_mode) == 0o700

    unset = processing_record.record_html(Settings(data_lake=lake))
    assert unset.count("NOT SET") == 3 and "SAMSKAB_LEGAL_BASIS" in unset and "UNDECLARED" not in unset
    page = processing_record.build_processing_record(
        Settings(data_lake=lake, legal_basis="GDPR art. 6(1)(e) & 9(2)(j)", data_controller="VIVE"), tmp_path
    ).read_text(encoding="utf-8")
    assert "GDPR art. 6(1)(e) &amp; 9(2)(j)" in page and "NOT SET" in page  # the purpose is still unset
    for source in SOURCES:
        assert f"<h2>{source.name}:" in page
        for item in source.personal_data:
            assert all(f"raw.{column}" in page for column in item.raw_columns)
    assert "-rw-------" in page and "No personal data." in page
    # drawn on every publish, beside the docs
    assert (lake / "published" / "docs" / processing_record.PAGE).is_file()
