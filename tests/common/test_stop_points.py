"""The named points where the torture suite stops the platform to kill it (samskab/common/stop_points.py):
inert unless asked, a stopped process says where it stopped, and every point is in the code once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

from samskab.common import stop_points
from tests.lakes import REPO

STOPS_AT_THE_SWAP = "from samskab.common import stop_points; stop_points.reached('swap'); print('went on')"


def test_a_point_nobody_asked_for_does_nothing(tmp_path):
    env = {**os.environ, stop_points.STOP_AT: "raw commit", stop_points.STOP_LOG: str(tmp_path / "said")}
    done = subprocess.run(
        [sys.executable, "-c", STOPS_AT_THE_SWAP], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == "went on\n"
    assert not (tmp_path / "said").exists()


def test_the_point_asked_for_stops_the_process_and_says_which(tmp_path):
    said = tmp_path / "said"
    env = {**os.environ, stop_points.STOP_AT: "swap", stop_points.STOP_LOG: str(said)}
    process = subprocess.Popen(
        [sys.executable, "-c", STOPS_AT_THE_SWAP], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGSTOP
        assert said.read_text(encoding="utf-8") == f"swap {process.pid}\n"
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL  # it never went on


def test_every_point_is_reached_in_one_place_of_the_platform():
    calls = re.compile(r"stop_points\.reached\(\s*\"([a-z ]+)\"")
    found = [
        point
        for path in sorted((REPO / "samskab").rglob("*.py"))
        for point in calls.findall(path.read_text(encoding="utf-8"))
    ]
    assert sorted(found) == sorted(stop_points.POINTS)
