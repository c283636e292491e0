"""Pseudonyms: keyed, stable, and never made with the demo key outside the embedded sample."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from samskab.common.settings import Settings
from samskab.ingest.pseudonyms import DEMO_PSEUDONYM_KEY, MissingPseudonymKey, Pseudonymiser, resolve_pseudonym_key
from samskab.sample.generate import generate_sample
from tests.lakes import FOLK1A_ANSWER, make_sample_lake


def test_same_person_gets_same_pseudonym_whatever_the_spacing_or_case():
    pseudonymise = Pseudonymiser(b"k" * 32)
    assert pseudonymise("email", "Mette.Hansen@Aarhus.dk ") == pseudonymise("email", "mette.hansen@aarhus.dk")
    assert pseudonymise("name", "Mette  Hansen") == pseudonymise("name", "mette hansen")
    assert pseudonymise("name", "") is None and pseudonymise("name", None) is None


def test_pseudonym_depends_on_key_and_kind_and_hides_the_value():
    value = "mette.hansen@aarhus.dk"
    one, other = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert one("email", value) != other("email", value)
    assert one("email", value) != one("name", value)
    assert "mette" not in one("email", value) and "aaaa" not in repr(one)


def test_real_deliveries_need_a_key(tmp_path):
    settings = Settings(data_lake=tmp_path)
    (tmp_path / "landing" / "statbank").mkdir(parents=True)
    (tmp_path / "landing" / "statbank" / "FOLK1A.csv").write_text("OMRÅDE;TID;INDHOLD\n", encoding="utf-8")
    with pytest.raises(MissingPseudonymKey, match="SAMSKAB_PSEUDONYM_KEY"):
        resolve_pseudonym_key(settings)


def test_demo_key_only_for_the_unchanged_embedded_sample(tmp_path):
    """The sample as a refresh sees it: its landing files and the Statbank answers fetched from its recordings."""
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    assert (settings.landing_dir / FOLK1A_ANSWER).is_file()
    assert resolve_pseudonym_key(settings) == (DEMO_PSEUDONYM_KEY.encode(), True)

    download = settings.landing_dir / "statbank" / "FOLK1A_2024.csv"  # a Statbank table not from the recordings
    download.write_bytes((settings.landing_dir / FOLK1A_ANSWER).read_bytes())
    with pytest.raises(MissingPseudonymKey):
        resolve_pseudonym_key(settings)
    download.unlink()

    record = settings.landing_dir / FOLK1A_ANSWER.replace(".csv", ".request.json")
    recorded = record.read_text(encoding="utf-8")
    assert '"api": "recorded"' in recorded
    record.write_text(recorded.replace('"api": "recorded"', '"api": "live"'), encoding="utf-8")
    with pytest.raises(MissingPseudonymKey):  # an answer of the live API is a real delivery
        resolve_pseudonym_key(settings)
    record.write_text(recorded, encoding="utf-8")
    assert resolve_pseudonym_key(settings) == (DEMO_PSEUDONYM_KEY.encode(), True)

    extra = settings.landing_dir / "survey" / "real_export" / "dataset.csv"
    extra.parent.mkdir()
    extra.write_bytes(b"\xff\xfe")
    with pytest.raises(MissingPseudonymKey):
        resolve_pseudonym_key(settings)
    extra.unlink()

    # A researcher adds a real informant to the sample's case register: no longer the synthetic sample.
    edited = settings.landing_dir / "cases" / "case_register.xlsx"
    workbook = load_workbook(edited)
    workbook["Informanter"].append(["C1-I99", "C1", "En Rigtig Person", "Borger", "Ingen (borger)"])
    workbook.save(edited)
    with pytest.raises(MissingPseudonymKey):
        resolve_pseudonym_key(settings)


def test_a_set_key_is_used_for_any_delivery(tmp_path):
    settings = Settings(data_lake=tmp_path, pseudonym_key="a-real-secret-of-some-length")
    assert resolve_pseudonym_key(settings) == (b"a-real-secret-of-some-length", False)


def test_a_linked_export_is_never_taken_for_the_sample(tmp_path):
    """The guard walks the landing zone as ingest does: a link (even to a copy of the sample) is not the sample."""
    settings = Settings(data_lake=tmp_path / "lake")
    generate_sample(settings.landing_dir)
    outside = tmp_path / "elsewhere"
    generate_sample(outside)
    (settings.landing_dir / "survey" / "linked").symlink_to(outside / "survey" / "samskabelse_2016")
    with pytest.raises(MissingPseudonymKey):
        resolve_pseudonym_key(settings)
