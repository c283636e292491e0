"""Pseudonyms: keyed, stable, and never made with the demo key outside the embedded sample."""

from __future__ import annotations

import pytest

from flows.pseudonyms import Pseudonymiser
from flows.settings import DEMO_PSEUDONYM_KEY, Settings


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
    with pytest.raises(RuntimeError, match="SAMSKAB_PSEUDONYM_KEY"):
        settings.resolved_pseudonym_key()


def test_demo_key_only_for_the_embedded_sample(tmp_path):
    settings = Settings(data_lake=tmp_path)
    settings.landing_dir.mkdir(parents=True)
    settings.sample_marker.write_text("sample", encoding="utf-8")
    assert settings.resolved_pseudonym_key() == DEMO_PSEUDONYM_KEY.encode()
    assert settings.uses_demo_key()
    keyed = Settings(data_lake=tmp_path, pseudonym_key="a-real-secret-of-some-length")
    assert keyed.resolved_pseudonym_key() == b"a-real-secret-of-some-length" and not keyed.uses_demo_key()
