"""`samskab worker`: this machine runs the nightly refresh's runs that a team's Prefect server hands out.

In team mode (README "Past one machine") `samskab serve` registers the nightly deployment on a process work
pool; a worker started here takes its runs and runs each in a process of its own, in this copy of the project
(prefect.yaml's pull step reads SAMSKAB_REPO_DIR, set here) on this machine's data lake and settings. It is
Prefect's own process worker, started with the platform's settings: the server's URL, no telemetry, and
this copy's folder. Ctrl-C stops it; a run it started goes on to its end (`stream_output: false`).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys

from samskab.common.settings import REPO_ROOT, TELEMETRY_OFF, get_settings
from samskab.operate.prefect_server import running_server_url
from samskab.operate.serve import DEPLOYMENT_NAME, read_deployment

EXIT_COULD_NOT_START = 3
# How often the worker asks the server for runs (Prefect's default 10 s makes a run wait for no reason).
POLL_SECONDS = 2


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", help="the work pool (default: SAMSKAB_WORK_POOL, else prefect.yaml's)")
    parser.add_argument(
        "--api-url",
        help="the team's Prefect server (default: SAMSKAB_PREFECT_API_URL, else the `samskab serve` of this lake)",
    )


def worker_environment(api_url: str) -> dict[str, str]:
    """What the worker and each run it starts see: the server, this copy, this machine's data lake."""
    settings = get_settings()
    return {
        **os.environ,
        **TELEMETRY_OFF,
        "PREFECT_API_URL": api_url,
        "PREFECT_WORKER_QUERY_SECONDS": str(POLL_SECONDS),
        "SAMSKAB_REPO_DIR": str(REPO_ROOT),
        "SAMSKAB_DATA_LAKE": str(settings.data_lake),
    }


def cmd_worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    api_url = args.api_url or settings.prefect_api_url or running_server_url(settings.data_lake)
    if not api_url:
        print(
            "No Prefect server to work for: set SAMSKAB_PREFECT_API_URL to the team's server (the address "
            "`samskab serve` printed, e.g. http://analysis-server:4200/api), or pass --api-url."
        )
        return EXIT_COULD_NOT_START
    pool = args.pool or settings.work_pool
    if not pool:
        declared = read_deployment(REPO_ROOT / "prefect.yaml", DEPLOYMENT_NAME)
        pool = (declared.get("work_pool") or {}).get("name", "")
    name = f"samskab-{socket.gethostname()}-{os.getpid()}"
    print(
        f"Worker {name}: runs the nightly refresh's runs of the work pool {pool} from {api_url}, in {REPO_ROOT}, "
        f"on the data lake {settings.data_lake}. Ctrl-C stops it.",
        flush=True,
    )
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process", "--name", name]
    worker = subprocess.Popen(command, env=worker_environment(api_url), cwd=REPO_ROOT, stdin=subprocess.DEVNULL)
    try:
        return worker.wait()
    except KeyboardInterrupt:
        # The worker stops on SIGINT at once (it ignores SIGTERM for long); its runs go on to their end.
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        print("Stopped: this machine takes no more runs.")
        return 0
