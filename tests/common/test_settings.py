"""Settings are validated before anything runs: a number out of its range is refused, naming the variable."""

from __future__ import annotations

import pytest

from samskab import cli
from samskab.common.settings import BOUNDS, Settings, SettingsError, reset_settings

OUT_OF_RANGE = {
    "drift_threshold": ["0", "-0.1", "1.5", "nan"],
    "statbank_timeout_seconds": ["0", "-5", "0.05"],
    "statbank_attempts": ["0", "-1"],
    "statbank_backoff_seconds": ["-1"],
    "freshness_hours": ["0", "-26"],
    "snapshot_retention_days": ["-1", "0"],
    "attention_rejected_share": ["-0.01", "2"],
    "shrink_hold_share": ["-0.5", "1.5"],
    "read_time_limit_seconds": ["0", "-1"],
    "read_memory_limit_mb": ["0", "10"],
    "originals_retention_days": ["-1", "40000"],
    "originals_retention_warn_days": ["-1", "4000"],
}


def test_every_bounded_setting_has_cases_here():
    assert set(OUT_OF_RANGE) == set(BOUNDS)


@pytest.mark.parametrize(("name", "raw"), [(name, raw) for name, raws in OUT_OF_RANGE.items() for raw in raws])
def test_a_setting_out_of_its_range_is_refused_naming_the_variable(tmp_path, name, raw):
    with pytest.raises(SettingsError, match=f"SAMSKAB_{name.upper()} is .*; it must be") as refused:
        Settings(data_lake=tmp_path, **{name: raw})
    assert "nothing was run" in str(refused.value)


def test_the_defaults_and_the_edges_of_each_range_are_accepted(tmp_path):
    Settings(data_lake=tmp_path)
    for name, (low, high, _) in BOUNDS.items():
        Settings(data_lake=tmp_path, **{name: low})
        Settings(data_lake=tmp_path, **{name: high})


def test_a_refresh_with_a_negative_retention_does_not_start_and_says_why(tmp_path, capsys, monkeypatch):
    """SAMSKAB_SNAPSHOT_RETENTION_DAYS=-1 once removed the snapshots of the day, the one just kept included."""
    monkeypatch.setenv("SAMSKAB_DATA_LAKE", str(tmp_path / "data_lake"))
    monkeypatch.setenv("SAMSKAB_SNAPSHOT_RETENTION_DAYS", "-1")
    reset_settings()
    try:
        assert cli.main(["refresh"]) == cli.EXIT_NOT_STARTED
        assert cli.main(["status"]) == cli.EXIT_NOT_STARTED
    finally:
        monkeypatch.undo()
        reset_settings()
    err = capsys.readouterr().err
    assert "SAMSKAB_SNAPSHOT_RETENTION_DAYS is -1; it must be at least 1 night" in err
    assert "Traceback" not in err
    assert not (tmp_path / "data_lake").exists()
