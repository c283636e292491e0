"""What a refresh asks of Prefect about its own runs: a dead run marked Crashed, a run tagged, the
pseudonym key taken from a Secret block, and its failures logged as messages, not tracebacks. Each is a
convenience around a run, never its outcome.
"""

from __future__ import annotations

import logging
import logging.handlers
import uuid

from samskab.common import failures
from samskab.common.settings import Settings


def mark_crashed(flow_run_id: str) -> str:
    """Set a dead run's Prefect flow run to Crashed (it would otherwise show Running for ever); returns how
    it stands, in words for the log."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    try:
        run_id = uuid.UUID(flow_run_id)
    except ValueError:
        return ""
    with get_client(sync_client=True) as client:
        try:
            state = client.read_flow_run(run_id).state
        except ObjectNotFound:
            return " (its flow run is not on this Prefect server)"
        if state is not None and state.is_final():
            return f"; its flow run is {state.name}"
        client.set_flow_run_state(
            run_id,
            Crashed(message="The run's process died (killed or the machine stopped); found by a later run."),
            force=True,
        )
    return "; its flow run is now marked Crashed"


def tag_flow_run(flow_run_id: str, tag: str) -> None:
    """Add `tag` to a flow run, so the UI can list such runs."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run_id = uuid.UUID(flow_run_id)
        tags = list(client.read_flow_run(run_id).tags or [])
        if tag not in tags:
            client.update_flow_run(run_id, tags=[*tags, tag])


def with_key_from_prefect_secret(settings: Settings) -> Settings:
    """Without SAMSKAB_PSEUDONYM_KEY in the environment, take the key from the Prefect Secret block named by
    `pseudonym_secret_block` (samskab-pseudonym-key) when the server has one (how a scheduled deployment
    gets it)."""
    if settings.has_pseudonym_key:
        return settings
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(settings.pseudonym_secret_block)
    except ValueError:  # no such block on this server
        return settings
    return settings.replace(pseudonym_key=str(secret.get()))


# --- A failure in the run's log: the message for the researcher, the traceback in the debug log -------------

# Prefect's loggers of a flow run and of a task run: each logs the exception that stopped it, with its
# traceback (some 20 frames before the message, in the terminal and in the UI).
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
DEBUG_LOGGER = "samskab.debug"


class TracebacksToDebugLog(logging.Filter):
    """On Prefect's run loggers: a record that carries an exception is told as the platform's message for
    it (failures.describe: our own words, or the exception's kind only) with where its traceback is, and
    the traceback is written to the debug log beside the warehouse (which may quote the data, as dbt's log
    may)."""

    def __init__(self, shown_as: str) -> None:
        super().__init__()
        self.shown_as = shown_as  # the debug log's path as the researcher reads it

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        debug = logging.getLogger(DEBUG_LOGGER)
        debug.error("%s: %s", record.name, record.getMessage(), exc_info=record.exc_info)
        record.msg, record.args = "%s (the traceback is in %s)", (failures.describe(error), self.shown_as)
        record.exc_info, record.exc_text = None, None
        return True


def tracebacks_to_debug_log(settings: Settings) -> None:
    """From now on in this process, a run's failure is logged as its message, its traceback in
    `settings.debug_log_path` (rotated at 5 MB, three kept). Called again (the next run of a `samskab
    serve` process, another lake), it replaces what it installed."""
    settings.debug_log_path.parent.mkdir(parents=True, exist_ok=True)
    debug = logging.getLogger(DEBUG_LOGGER)
    debug.propagate = False
    debug.setLevel(logging.DEBUG)
    for handler in list(debug.handlers):
        debug.removeHandler(handler)
        handler.close()
    handler = logging.handlers.RotatingFileHandler(
        settings.debug_log_path, maxBytes=5 * 2**20, backupCount=3, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    debug.addHandler(handler)
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        for installed in [f for f in logger.filters if isinstance(f, TracebacksToDebugLog)]:
            logger.removeFilter(installed)
        shown_as = f"{settings.debug_log_path.relative_to(settings.data_lake).as_posix()} in the data lake"
        logger.addFilter(TracebacksToDebugLog(shown_as))
