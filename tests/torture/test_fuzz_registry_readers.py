"""The other readers fuzzed (Statbank CSV and JSON-stat with tableinfo, classifications, the case
workbook), and the inputs the fuzzer once broke, kept as they were found.

The seeds, the damage and the judging are in tests/torture/fuzzing.py; `make torture` tries many more
inputs and prints a table.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.torture.fuzzing import SEEDS, check, damaged_and_read, damages

KINDS = ("statbank", "classifications", "cases")


@pytest.mark.parametrize("seed", [seed for seed in SEEDS if seed.item.kind in KINDS], ids=str)
@given(damage=damages, which=st.integers(0, 5))
def test_a_damaged_delivery_loads_or_is_refused_naming_its_file(seed, damage: tuple, which: int):
    check(seed, damage, which)


# Inputs the fuzzer found that the readers did not survive, kept as they were found (the readers' own
# tests cover the rules; these prove the exact inputs load or are refused now).
FOUND = [
    # the csv module's 128 KB field limit raised out of the Qualtrics header sniffing
    ("qualtrics/projoint_faculty_conjoint_spreadsheet_resave_prefix.csv", ("huge line", 2), 0),
    # a legacy export cut inside its second header row: an index past the end of row 2
    ("qualtrics/qualtrics_r_sample_legacy_bom.csv", ("cut", 0.25), 0),
    # a byte flipped into a sequence number that str.isdigit took for a digit and int() did not
    ("classifications/disco08_da.csv", ("flip", 0.544232950448185, 28), 0),
    # a 390,000-letter label searched again for every one of 3,255 figures: over 30 s
    ("statbank/FOLK1AM_omraade_maaned_labels_da.csv", ("huge field", 0.29750444654085256, b"a", 391923), 0),
    # SPSS dates past the year 9999: OverflowError
    ("spss/datetime_formats_pspp.sav", ("huge field", 0.9375, b"a", 100000), 0),
    ("spss/missing_discrete_and_range.sav", ("flip", 0.9999999999999999, 67), 0),
]


@pytest.mark.parametrize(("seed", "damage", "which"), FOUND, ids=[found[0] for found in FOUND])
def test_what_the_fuzzer_found_loads_or_is_refused_now(seed: str, damage: tuple, which: int):
    (chosen,) = [candidate for candidate in SEEDS if str(candidate) == seed]
    outcomes = damaged_and_read(chosen, damage, which)
    assert outcomes and all(outcome in ("loaded", "refused") for outcome, _ in outcomes), outcomes
