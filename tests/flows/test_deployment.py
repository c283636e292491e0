"""prefect.yaml: the nightly deployment points at the flow and runs once a night, one run at a time."""

from __future__ import annotations

import yaml

from tests.lakes import REPO

ROOT = REPO


def test_nightly_deployment_runs_the_flow_every_night_one_at_a_time():
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = config["deployments"]
    flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
    assert flow.name == "nightly_refresh"
    (schedule,) = deployment["schedules"]
    cron = CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
    assert cron.timezone == "Europe/Copenhagen"
    assert cron.cron.split()[2:] == ["*", "*", "*"]  # every day of every month
    assert deployment["concurrency_limit"]["limit"] == 1
