"""One pseudonym key at a time (issue 20): a refresh under a key other than the one the raw layer was made
with reads every delivery again under it before anything is published, so the published file holds the new
key's pseudonyms only, and names that key by its fingerprint."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import copy_lake, told, using_lake, using_setting

pytestmark = pytest.mark.end_to_end

NEW_KEY = "the-study-s-key-after-the-first-one-0123456789"
PSEUDONYMS = """
    select respondent_pseudonym as pseudonym from survey_weights union
    select respondent_pseudonym from survey_answers_labelled union
    select respondent_pseudonym from collaborations union
    select informant_pseudonyms from case_activities where informant_pseudonyms is not null
"""


def _published(path: Path) -> tuple[set[str], set[str], str]:
    """(every pseudonym, the informants' pseudonyms, the key's fingerprint) of a published file."""
    with duckdb.connect(str(path), read_only=True) as connection:
        every = {row[0] for row in connection.execute(PSEUDONYMS).fetchall()}
        informants = {
            pseudonym.strip()
            for (listed,) in connection.execute(
                "select informant_pseudonyms from case_activities where informant_pseudonyms is not null"
            ).fetchall()
            for pseudonym in listed.split(",")
        }
        (fingerprint,) = connection.execute("select pseudonym_key_fingerprint from meta.runs").fetchone()
    return every, informants, fingerprint


def _informant_names(register: Path) -> set[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(register, read_only=True)
    try:
        rows = list(workbook["Informanter"].iter_rows(values_only=True))
    finally:
        workbook.close()
    column = list(rows[0]).index("navn")
    return {row[column] for row in rows[1:] if row[column]}


def test_a_key_set_after_the_demo_reads_every_delivery_again_and_the_file_holds_its_pseudonyms_only(
    refreshed_lake, tmp_path
):
    """As the operator met it: the demo published the sample under the public demo key; then a real key
    is set and the case register is delivered again. Every delivery is read again under the new key."""
    from openpyxl import load_workbook

    from flows.nightly_refresh import nightly_refresh
    from samskab.ingest.pseudonyms import DEMO_PSEUDONYM_KEY

    lake = copy_lake(refreshed_lake[0], tmp_path)
    published = lake / "published" / "analytics.duckdb"
    with using_lake(lake):  # no key: the unchanged sample runs on the demo key, as `make demo` does
        nightly_refresh()
    demo, _, demo_fingerprint = _published(published)
    assert demo_fingerprint == Pseudonymiser(DEMO_PSEUDONYM_KEY.encode()).key_fingerprint
    register = lake / "landing" / "cases" / "case_register.xlsx"
    workbook = load_workbook(register)
    workbook.save(register)  # delivered again
    workbook.close()

    with using_lake(lake), using_setting("SAMSKAB_PSEUDONYM_KEY", NEW_KEY), told() as (_, lines):
        report = nightly_refresh()

    new = Pseudonymiser(NEW_KEY.encode())
    after, informants, fingerprint = _published(published)
    assert fingerprint == new.key_fingerprint and NEW_KEY not in lines.text
    assert "every delivery is read again from the landing zone under this key" in lines.text
    assert {load.state for load in report.ingest.loads} == {"loaded"}  # none kept from the demo key
    assert len(after) == len(demo) > 500 and after.isdisjoint(demo)
    names = _informant_names(register)
    assert informants and informants <= {new("informant", name) for name in names}
