"""`samskab serve`: the Prefect UI and the nightly schedule, kept running by the platform itself.

Starts the platform's own Prefect server on loopback, registers the `nightly-refresh` deployment exactly
as prefect.yaml declares it (name, description, tags, schedules, concurrency), and runs its schedule in
this process: each run, scheduled or started from the UI, executes as a child process here. Ctrl-C (or
SIGTERM) stops the schedule and the server and leaves nothing running.

Prefect is imported inside the functions that need it, so `samskab --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from samskab.common import processes
from samskab.common.settings import Settings
from samskab.operate.docs_server import DocsServer, Route, docs_port
from samskab.operate.prefect_server import (
    LocalServer,
    ServerDidNotStart,
    announce,
    port_is_free,
    running_server_url,
    send_queued_logs_and_events,
    start_local_server,
    withdraw_announcement,
)

DEFAULT_PORT = 4200
DEPLOYMENT_NAME = "nightly-refresh"
# How often the runner asks the server for runs that are due. Prefect's default (10 s) makes a run
# started from the UI or `samskab refresh` wait for no reason; a question every 2 s costs nothing here.
POLL_SECONDS = 2
EXIT_STOPPED, EXIT_COULD_NOT_START = 0, 3

WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAY_NAMES = {name[:3].lower(): number for number, name in enumerate(WEEKDAYS[:7])}


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `samskab serve`, for whichever parser holds the command."""
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"the loopback port of the Prefect server and its UI (default {DEFAULT_PORT})",
    )


def cmd_serve(args: argparse.Namespace, routes: Mapping[str, Route] | None = None) -> int:
    from samskab.common.settings import REPO_ROOT, get_settings

    settings = get_settings()
    return serve(args.port, settings.data_lake, REPO_ROOT, routes, settings)


def main(argv: list[str] | None = None) -> int:
    """`python -m samskab.operate.serve [--port N]`: the same command without the rest of the CLI."""
    from samskab.common.settings import quiet_third_party_telemetry

    quiet_third_party_telemetry()
    parser = argparse.ArgumentParser(
        prog="samskab serve", description="Run the Prefect UI and the nightly refresh's schedule until Ctrl-C."
    )
    add_serve_arguments(parser)
    return cmd_serve(parser.parse_args(argv))


def serve(
    port: int | None,
    lake_dir: Path,
    repo_root: Path,
    routes: Mapping[str, Route] | None = None,
    settings: Settings | None = None,
) -> int:
    """Run the server and the nightly schedule until Ctrl-C or SIGTERM; returns the exit code. `routes`:
    pages the documentation server draws on request (samskab/operate/docs_server.py), by their prefix.
    Team mode comes from `settings` (README "Past one machine"): the server's runs in PostgreSQL
    (`prefect_database_url`), listening on `prefect_host`, and with `work_pool` the nightly deployment on
    that process work pool, its runs left to `samskab worker` on any machine.

    0 when stopped on request; 3 when it could not start (the port is taken, this lake already has a
    server, prefect.yaml lacks the deployment, or the server did not come up), with the reason printed.
    """
    settings = settings or Settings(data_lake=lake_dir)
    port = DEFAULT_PORT if port is None else port
    announced = running_server_url(lake_dir)
    if announced is not None:
        _say(
            f"`samskab serve` already runs for this data lake: its UI is at {announced.removesuffix('/api')}.\n"
            "Use that one, or stop it (Ctrl-C in its terminal) before starting another."
        )
        return EXIT_COULD_NOT_START
    if not port_is_free(port):
        _say(
            f"Port {port} on this machine is already in use (another `samskab serve`, a Prefect server or another "
            f"program). Stop that program, or choose another port: samskab serve --port {_suggest_port(port)}"
        )
        return EXIT_COULD_NOT_START
    try:
        declared = read_deployment(repo_root / "prefect.yaml", DEPLOYMENT_NAME)
        pull_steps = read_pull_steps(repo_root / "prefect.yaml")
    except (OSError, LookupError, ValueError) as error:
        _say(f"Could not read the {DEPLOYMENT_NAME} deployment from prefect.yaml: {error}")
        return EXIT_COULD_NOT_START

    database = settings.prefect_database_url.get_secret_value() if settings.prefect_database_url else None
    kept_in = f"PostgreSQL ({_without_password(database)})" if database else "SQLite under PREFECT_HOME"
    _say(
        f"Starting the platform's Prefect server on {settings.prefect_host}, port {port}, its runs kept in {kept_in} "
        "(this takes about half a minute) ..."
    )
    previous_handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Ctrl-C stops the command even when whoever started it asked this process to ignore SIGINT
    # (as a shell does for a command started with `&`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    server: LocalServer | None = None
    docs: DocsServer | None = None
    try:
        server = start_local_server(port, host=settings.prefect_host, database_url=database)
        docs = DocsServer(Settings(data_lake=lake_dir).docs_dir, docs_port(port), routes)
        announce(server, lake_dir, docs.url)
        if settings.work_pool:
            _deploy_to_pool(server, declared, pull_steps, repo_root, docs.url, settings.work_pool)
        else:
            _run_schedule(server, declared, repo_root, docs.url)
    except KeyboardInterrupt:
        pass
    except ServerDidNotStart as error:
        _say(str(error))
        return EXIT_COULD_NOT_START
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave the server behind.
        for sig in previous_handlers:
            signal.signal(sig, signal.SIG_IGN)
        if server is not None:
            withdraw_announcement(lake_dir)
            server.stop()
        if docs is not None:
            docs.stop()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    _say("Stopped: the Prefect server and the nightly schedule no longer run.")
    return EXIT_STOPPED


def read_deployment(prefect_yaml: Path, name: str) -> dict[str, Any]:
    """The deployment called `name` as prefect.yaml declares it (prefect.yaml is the one source of truth)."""
    import yaml

    config = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    for deployment in config.get("deployments") or []:
        if deployment.get("name") == name:
            if not deployment.get("entrypoint"):
                raise ValueError(f"the deployment {name} names no entrypoint")
            return deployment
    raise LookupError(f"no deployment named {name}")


def read_pull_steps(prefect_yaml: Path) -> list[dict[str, Any]]:
    """prefect.yaml's pull steps: how a worker finds the code of a run (its own copy of the project)."""
    import yaml

    config = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    return list(config.get("pull") or [])


def _without_password(url: str) -> str:
    """A database URL as it may be shown: host, port and database, never the user's password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _deploy_to_pool(
    server: LocalServer,
    declared: dict[str, Any],
    pull_steps: list[dict[str, Any]],
    repo_root: Path,
    docs_url: str,
    pool: str,
) -> None:
    """Team mode: register the deployment on the process work pool `pool` (created if missing), with
    prefect.yaml's pull steps so each worker runs its own copy of the project; then keep the server up until
    interrupted. The runs are the workers' (`samskab worker`), not this process's."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate, WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL, temporary_settings

    work = declared.get("work_pool") or {}
    with temporary_settings(updates={PREFECT_API_URL: server.url}):
        with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        deployment = _declared_deployment(
            repo_root,
            declared,
            work_pool_name=pool,
            work_queue_name=work.get("work_queue_name"),
            job_variables=work.get("job_variables") or {},
        )
        deployment_id = deployment.apply()
        # Prefect would have the worker copy this machine's folder; each worker runs its own copy instead.
        with get_client(sync_client=True) as client:
            client.update_deployment(deployment_id, DeploymentUpdate(pull_steps=pull_steps, path=None))
        _say(_welcome(server, f"{server.ui_url}/deployments/deployment/{deployment_id}", declared, docs_url, pool))
        while True:  # until Ctrl-C or SIGTERM
            time.sleep(3600)


def _declared_deployment(repo_root: Path, declared: dict[str, Any], **on_pool: Any):
    """The deployment as prefect.yaml declares it (name, description, tags, parameters, schedules,
    concurrency), for this process to run, or with `on_pool` (work pool, queue, job variables) for workers."""
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(str(repo_root / declared["entrypoint"]))
    return flow.to_deployment(
        name=declared["name"],
        description=declared.get("description"),
        tags=declared.get("tags"),
        parameters=declared.get("parameters"),
        schedules=[_schedule(schedule) for schedule in declared.get("schedules") or []],
        concurrency_limit=_concurrency_limit(declared.get("concurrency_limit")),
        **on_pool,
    )


def _run_schedule(server: LocalServer, declared: dict[str, Any], repo_root: Path, docs_url: str) -> None:
    """Register the deployment with the server and run its schedule here until interrupted."""
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # The runner hands this setting on to every run's child process.
    with temporary_settings(updates={PREFECT_API_URL: server.url}):
        # The work pool in prefect.yaml is for team mode (_deploy_to_pool); here this process runs the flow.
        deployment = _declared_deployment(repo_root, declared)
        # Registered before the welcome, so what it promises is true when it is read; serving registers it
        # again, which changes nothing.
        deployment_id = deployment.apply()
        _say(_welcome(server, f"{server.ui_url}/deployments/deployment/{deployment_id}", declared, docs_url))
        os.environ[processes.SERVED_BY] = str(os.getpid())  # each run's process ends with this one
        try:
            prefect_serve(deployment, print_starting_message=False, query_seconds=POLL_SECONDS)
            _close_interrupted_runs(f"{deployment.flow_name}/{declared['name']}")
        finally:
            send_queued_logs_and_events()  # while the server still listens


def _close_interrupted_runs(deployment: str) -> None:
    """A run this process executed when it was stopped would show as Running for ever: mark it Crashed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    try:
        with get_client(sync_client=True) as client:
            deployment_id = client.read_deployment_by_name(deployment).id
            unfinished = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])),
                )
            )
            for run in unfinished:
                message = (
                    "`samskab serve` was stopped during this run. Publishing is all or nothing: "
                    "`samskab status` says whether analysts read this run's file or the one before it."
                )
                client.set_flow_run_state(run.id, Crashed(message=message), force=True)
                _say(f"The run {run.name} was stopped before it finished; it is marked Crashed.")
    except Exception as error:  # the server is about to stop anyway; say so and go on
        _say(f"Could not mark unfinished runs as stopped ({type(error).__name__}: {error}).")


def _schedule(declared: dict[str, Any]) -> dict[str, Any]:
    """One entry of prefect.yaml's `schedules`, as Prefect's deployment schedule."""
    from datetime import timedelta

    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule

    timezone = {"timezone": declared["timezone"]} if declared.get("timezone") else {}
    if declared.get("cron"):
        day_or = {"day_or": declared["day_or"]} if "day_or" in declared else {}
        schedule = CronSchedule(cron=declared["cron"], **timezone, **day_or)
    elif declared.get("interval"):
        interval = declared["interval"]
        seconds = timedelta(seconds=interval) if isinstance(interval, int | float) else interval
        schedule = IntervalSchedule(interval=seconds, **timezone)
    elif declared.get("rrule"):
        schedule = RRuleSchedule(rrule=declared["rrule"], **timezone)
    else:
        raise ValueError(f"a schedule with neither cron, interval nor rrule: {declared}")
    entry: dict[str, Any] = {"schedule": schedule, "active": declared.get("active", True)}
    if declared.get("parameters"):
        entry["parameters"] = declared["parameters"]
    return entry


def _concurrency_limit(declared: int | dict[str, Any] | None):
    if declared is None or isinstance(declared, int):
        return declared
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    return ConcurrencyLimitConfig.model_validate(declared)


def _welcome(server: LocalServer, deployment_page: str, declared: dict[str, Any], docs_url: str, pool: str = "") -> str:
    lines = [
        f"The platform's Prefect server runs at {server.ui_url} (open it in a browser).",
        f"  Its log: {server.log_path}",
        f"The published file's documentation: {docs_url}/report.html (the study report), "
        f"{docs_url}/dbt/ (dbt's docs), {docs_url}/validation.html (the quality checks, in place of Data Docs: "
        f"it opens offline), {docs_url}/snapshots/ (the kept snapshots, each with its report); a run's summary "
        "links there.",
    ]
    active = [schedule for schedule in declared.get("schedules") or [] if schedule.get("active", True)]
    for schedule in active:
        lines.append(f"The nightly refresh is scheduled and active: {describe_schedule(schedule)}.")
    if not active:
        lines.append("The nightly refresh has no active schedule in prefect.yaml: it runs only when started.")
    if pool:
        lines.append(
            f"Its runs go to the work pool {pool}: start `samskab worker` on each machine that runs them, with "
            f"SAMSKAB_PREFECT_API_URL={server.url} (a run waits in the pool until a worker takes it)."
        )
    lines += [
        ('To run it now: press "Run" on the deployment\'s page:' if pool else
         'To run it now: `samskab refresh` in another terminal, or press "Run" on the deployment\'s page:'),
        f"  {deployment_page}",
        "Ctrl-C stops the server and the schedule.",
    ]  # fmt: skip
    return "\n".join(lines)


def describe_schedule(schedule: dict[str, Any]) -> str:
    """A prefect.yaml schedule in words: "every day at 02:30, Europe/Copenhagen time (cron 30 2 * * *)"."""
    zone = f", {schedule['timezone']} time" if schedule.get("timezone") else " (UTC)"
    if schedule.get("cron"):
        return f"{describe_cron(schedule['cron'])}{zone} (cron {schedule['cron']})"
    if schedule.get("interval"):
        return f"every {schedule['interval']} seconds{zone}"
    return f"by the rule {schedule.get('rrule')}{zone}"


def describe_cron(cron: str) -> str:
    """Daily and weekly cron lines in words; any other line as itself."""
    fields = cron.split()
    if len(fields) != 5:
        return f"on the cron schedule {cron}"
    minute, hour, day_of_month, month, day_of_week = fields
    if not (minute.isdigit() and hour.isdigit() and day_of_month == "*" and month == "*"):
        return f"on the cron schedule {cron}"
    at = f"at {int(hour):02d}:{int(minute):02d}"
    if day_of_week == "*":
        return f"every day {at}"
    days = [_weekday(part) for part in day_of_week.split(",")]
    if None in days:
        return f"on the cron schedule {cron}"
    return "every " + " and ".join(str(day) for day in days) + f" {at}"


def _weekday(part: str) -> str | None:
    if part.isdigit() and int(part) < len(WEEKDAYS):
        return WEEKDAYS[int(part)]
    number = WEEKDAY_NAMES.get(part.lower())
    return None if number is None else WEEKDAYS[number]


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM before the runner takes over stops the command as Ctrl-C does."""
    raise KeyboardInterrupt


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is no port number (1 to 65535)")
    return port


def _suggest_port(taken: int) -> int:
    return next((port for port in range(taken + 1, min(taken + 50, 65536)) if port_is_free(port)), taken + 1)


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
