"""The run journal: the truth about every refresh, rollback and erasure, for `samskab status`.

Each run writes its record in `data_lake/runs/` *before* it touches anything, and closes it after its
last step, saying how it ended. A record that is still open while its process is gone means the run
died (killed, the machine stopped, or its disk was too full to record its end); `samskab status` then
says so instead of repeating the verdict of an earlier night. A run that cannot open its record does
not start. Records hold run ids, times, verdicts and file names: never a cell value.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from samskab.common import stop_points
from samskab.common.atomic_files import write_atomically
from samskab.common.processes import pid_alive
from samskab.common.settings import Settings
from samskab.common.words import RunState

RUNNING, PUBLISHED, FAILED, UNCHANGED = RunState.RUNNING, RunState.PUBLISHED, RunState.FAILED, RunState.UNCHANGED
HELD, DIED, ROLLED_BACK = RunState.HELD, RunState.DIED, RunState.ROLLED_BACK
NOTHING_TO_ROLL_BACK, ERASED = RunState.NOTHING_TO_ROLL_BACK, RunState.ERASED
ENDED = frozenset({PUBLISHED, FAILED, UNCHANGED, HELD, DIED, ROLLED_BACK, NOTHING_TO_ROLL_BACK, ERASED})
# Refreshes that ended having judged the landing zone as it was: their attention lines describe it.
SAW_INPUTS = frozenset({PUBLISHED, UNCHANGED, HELD})

REFRESH = "refresh"
ROLLBACK = "rollback"
ERASE = "erase"


class RunNotRecorded(RuntimeError):
    """The run could not write its record; it did not start, and nothing was changed."""


@dataclass
class RunEntry:
    """One run's record, as written in the journal."""

    run_id: str
    kind: str
    started_at: str
    flow_run_name: str = ""
    flow_run_id: str = ""
    state: str = RUNNING
    pid: int = 0
    process_start: str = ""
    host: str = ""
    finished_at: str = ""
    verdict: str = ""
    published_run_id: str = ""
    inputs_fingerprint: str = ""
    attention: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)
    path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.state == RUNNING

    @property
    def headline(self) -> str:
        return (self.verdict.splitlines() or [""])[0]

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "path"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def process_start(pid: int) -> str:
    """When the process started, in the kernel's clock ticks since boot (Linux), so a reused pid is
    not taken for the run's own; empty where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(entry: RunEntry) -> bool:
    """Whether the process that opened `entry` still runs (on this machine)."""
    if entry.host and entry.host != socket.gethostname():
        return True  # another machine's run: it cannot be judged from here
    if not pid_alive(entry.pid):
        return False
    return not entry.process_start or process_start(entry.pid) in ("", entry.process_start)


def _write(directory: Path, entry: RunEntry) -> None:
    """Write the record whole or not at all: a temporary file, flushed to disk, renamed over it."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = entry.started_at.replace("-", "").replace(":", "")[:22]  # 20261127T023000.123456
    target = entry.path or directory / f"{stamp}_{entry.kind}_{entry.run_id}.json"
    write_atomically(
        target, json.dumps(entry.to_json(), indent=2) + "\n", partial=target.with_name(target.name + ".tmp")
    )
    entry.path = target


def open_run(settings: Settings, run_id: str, kind: str, flow_run_name: str = "", flow_run_id: str = "") -> RunEntry:
    """Record that a run starts, before it changes anything; raises RunNotRecorded when it cannot."""
    entry = RunEntry(
        run_id=run_id,
        kind=kind,
        started_at=_now(),
        flow_run_name=flow_run_name or run_id,
        flow_run_id=flow_run_id,
        pid=os.getpid(),
        process_start=process_start(os.getpid()),
        host=socket.gethostname(),
    )
    try:
        _write(settings.runs_dir, entry)
    except OSError as error:
        raise RunNotRecorded(
            f"The {kind} did not start: it could not record its start in the run journal "
            f"({error.strerror or type(error).__name__}). Nothing was changed. "
            "Next: free space on the data lake's disk (or fix its permissions) and run it again."
        ) from None
    return entry


def close_run(settings: Settings, entry: RunEntry, state: str, verdict: str, **details: Any) -> bool:
    """Record how the run ended. Returns False (the record stays open, and says the run did not finish)
    when even that cannot be written, such as on a full disk."""
    if state not in ENDED:
        raise ValueError(f"Unknown end state {state!r}")
    stop_points.reached("journal close")
    for name, value in details.items():
        setattr(entry, name, value)
    entry.state, entry.verdict, entry.finished_at = state, verdict, _now()
    try:
        _write(settings.runs_dir, entry)
    except OSError:
        entry.state = RUNNING
        return False
    return True


def lasting_attention(settings: Settings, inputs_fingerprint: str) -> list[str]:
    """What still needs attention when the inputs are those a run has already seen: the attention lines of
    the last refresh with these very inputs (the landing zone, code and settings), so a refused file is
    named every night until it is corrected or withdrawn, not only on the night it arrived."""
    for entry in reversed(read_runs(settings)):
        if entry.kind == REFRESH and entry.inputs_fingerprint == inputs_fingerprint and entry.state in SAW_INPUTS:
            return list(entry.attention)
    return []


def close_nothing_to_do(settings: Settings, entry: RunEntry, decision: Any, noted: list[str]) -> list[str]:
    """Close the record of a refresh that found nothing to do (a `fingerprint.Decision` that does not
    run), naming the run whose file stays published. Returns what still needs attention (recorded too)."""
    from samskab.publish.swap import published_run

    published = published_run(settings.published_path)
    attention = lasting_attention(settings, decision.fingerprint.digest)
    close_run(
        settings,
        entry,
        decision.state,
        decision.message,
        published_run_id=published[0] if published else "",
        inputs_fingerprint=decision.fingerprint.digest,
        attention=attention,
        noted=noted,
    )
    return attention


def read_runs(settings: Settings) -> list[RunEntry]:
    """Every record in the journal, oldest first; a record that does not read is skipped, not fatal."""
    if not settings.runs_dir.is_dir():
        return []
    entries = []
    known = set(RunEntry.__dataclass_fields__) - {"path"}
    for path in sorted(settings.runs_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entries.append(RunEntry(**{name: value for name, value in record.items() if name in known}, path=path))
    entries.sort(key=lambda entry: (entry.started_at, entry.path.name if entry.path else ""))
    return entries


def dead_runs(settings: Settings) -> list[RunEntry]:
    """Records still open whose process is gone: runs that died without saying how they ended."""
    return [entry for entry in read_runs(settings) if entry.is_open and not is_alive(entry)]


def close_dead_run(settings: Settings, entry: RunEntry, found_by: str, what_was_left: list[str]) -> None:
    """Mark a dead run's record as died, naming the run that found it and what it cleaned up."""
    note = f"found unfinished by run {found_by}"
    if what_was_left:
        note += "; removed what it left: " + ", ".join(what_was_left)
    close_run(
        settings,
        entry,
        DIED,
        "DIED: the run stopped before recording its end (killed, the machine stopped, or its disk was full). "
        "Nothing it built was published unless the published file names it.",
        noted=[*entry.noted, note],
    )


def last_publish(entries: list[RunEntry]) -> RunEntry | None:
    published = [entry for entry in entries if entry.kind == REFRESH and entry.state == PUBLISHED]
    return published[-1] if published else None
