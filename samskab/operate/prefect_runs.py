"""What a refresh asks of the Prefect server about its own runs: a dead run marked Crashed, a run tagged,
the pseudonym key taken from a Secret block. Each is a convenience around a run, never its outcome.
"""

from __future__ import annotations

import uuid

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
