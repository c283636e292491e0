"""The torture suite's settings: how many inputs the fuzzer tries.

`make test` runs the "fast" profile (a fixed seed, 4 inputs per seed delivery: 240 in all); `make torture`
the "torture" profile (SAMSKAB_TORTURE=1: 40 per seed by default, SAMSKAB_FUZZ_EXAMPLES for more; the same
fixed seed, so a failure is found again by running again). Hypothesis keeps no example database: every
run tries the same inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

COMMON = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("fast", max_examples=4, **COMMON)
settings.register_profile("torture", max_examples=int(os.environ.get("SAMSKAB_FUZZ_EXAMPLES", "40")), **COMMON)
settings.load_profile("torture" if os.environ.get("SAMSKAB_TORTURE") else "fast")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is part of `make torture` (`pytest -m torture`)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.torture)
