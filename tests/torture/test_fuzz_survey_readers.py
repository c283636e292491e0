"""The survey readers fuzzed (SurveyXact, Qualtrics, SPSS, Stata): each damaged input loads or is refused
naming its file; never a fault of the platform, never the time limit.

The seeds, the damage and the judging are in tests/torture/fuzzing.py; `make torture` tries many more
inputs and prints a table.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.torture.fuzzing import SEEDS, check, damages

KINDS = ("surveyxact", "qualtrics", "spss", "stata")


@pytest.mark.parametrize("seed", [seed for seed in SEEDS if seed.item.kind in KINDS], ids=str)
@given(damage=damages, which=st.integers(0, 5))
def test_a_damaged_delivery_loads_or_is_refused_naming_its_file(seed, damage: tuple, which: int):
    check(seed, damage, which)
