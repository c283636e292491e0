"""`samskab sample` and `samskab status` without a refresh: what a researcher sees on a new lake."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from samskab.cli import main
from samskab.ingest import statbank_api
from tests.lakes import FETCHED_AT, FOLK1A_ANSWER, REPO, using_lake


def test_sample_writes_the_embedded_sample_and_can_be_written_again(tmp_path, capsys):
    with using_lake(tmp_path / "data_lake") as settings:
        assert main(["sample"]) == 0
        assert (settings.statbank_recordings_dir / "index.json").is_file()  # Statbank's answers, to be fetched
        # A refresh's first task lands the recorded answers; they are the sample's, not real deliveries.
        results = statbank_api.fetch_registry(settings, now=FETCHED_AT)
        assert {result.state for result in results} == {statbank_api.LANDED}
        assert (settings.landing_dir / FOLK1A_ANSWER).is_file()
        assert main(["sample", "--scale", "2"]) == 0  # replaces its own earlier sample: every head answers twice
        dataset = settings.landing_dir / "survey" / "samskabelse_2016" / "dataset.csv"
        assert len(dataset.read_bytes().decode("utf-16").splitlines()) - 1 == 2 * (784 + 2)
    assert "survey/samskabelse_2016/dataset.csv" in capsys.readouterr().out


def test_sample_writes_the_survey_in_the_shape_asked_for(tmp_path, capsys):
    with using_lake(tmp_path / "data_lake") as settings:
        assert main(["sample", "--survey-shape", "spss-sav"]) == 0
        assert (settings.landing_dir / "survey" / "samskabelse_2016.sav").is_file()
        assert not (settings.landing_dir / "survey" / "samskabelse_2016").exists()
    assert "survey/samskabelse_2016.sav" in capsys.readouterr().out


def test_sample_refuses_to_overwrite_real_deliveries(tmp_path, capsys):
    with using_lake(tmp_path / "data_lake") as settings:
        real = settings.landing_dir / "statbank" / "FOLK1A_2024.csv"
        real.parent.mkdir(parents=True)
        real.write_text("OMRÅDE;TID;INDHOLD\r\n", encoding="utf-8")
        assert main(["sample"]) == 2
        assert real.exists() and not (settings.landing_dir / "survey").exists()
    assert "refusing to overwrite" in capsys.readouterr().out


def test_status_on_a_new_lake_says_nothing_is_published(tmp_path, capsys):
    with using_lake(tmp_path / "data_lake"):
        assert main(["status"]) == 1
        assert main(["rollback"]) == 1
    out = capsys.readouterr().out
    assert "No refresh has run yet" in out and "Nothing is published yet" in out
    assert "no previous snapshot" in out


FREEZE_COUNT_AFTER_THE_COMMAND = (
    "import gc, sys; from samskab.cli import main; sys.argv = ['samskab', 'status']; main(); "
    "print(gc.get_freeze_count())"
)


def test_the_command_leaves_its_objects_to_the_exit_and_a_caller_in_python_keeps_them_collected(tmp_path, capsys):
    """`samskab` as a command freezes what it made (its exit then frees the memory without collecting the
    objects one by one, about a second after a refresh); main() called from Python leaves the caller's
    garbage collection as it was."""
    lake = tmp_path / "data_lake"
    env = {**os.environ, "SAMSKAB_DATA_LAKE": str(lake), "PYTHONPATH": str(REPO)}
    ran = subprocess.run(
        [sys.executable, "-c", FREEZE_COUNT_AFTER_THE_COMMAND], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert int(ran.stdout.strip().splitlines()[-1]) > 0
    frozen = gc.get_freeze_count()
    with using_lake(lake):
        assert main(["status"]) == 1
    assert gc.get_freeze_count() == frozen
    capsys.readouterr()


def _help_of(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as ended:
        main([*command, "--help"])
    assert ended.value.code == 0
    return capsys.readouterr().out


def test_every_command_says_what_it_does_and_the_exit_codes_are_in_the_help(capsys):
    top = _help_of(capsys)
    commands = top.split("{", 1)[1].split("}", 1)[0].split(",")
    assert {"refresh", "status", "sql", "export", "rollback"} <= set(commands)
    for command in [*commands, "registry fetch"]:
        rest = _help_of(capsys, *command.split()).partition("\n\n")[2]
        described = rest.split("\n\n", 1)[0]
        assert not described.startswith(("positional arguments", "options")), f"{command} has no description"
        assert len(described) > 40, (command, described)
    for command, codes in (("refresh", "01234"), ("status", "0145")):
        listed = _help_of(capsys, command).split("exit codes:\n", 1)[1]
        assert [line.split()[0] for line in listed.splitlines() if line.strip()[:1].isdigit()] == list(codes)
        assert f"samskab {command} exit codes:" in top
    assert "exit codes of the other commands" in top
