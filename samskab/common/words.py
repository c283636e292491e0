"""The words the platform records and shows for states and severities, each written once.

They are text (StrEnum), so they compare equal to, and are stored as, the words themselves: in the run
journal, the ingest ledger, `meta.landing_files`, `meta.quality_checks` and every message.
"""

from __future__ import annotations

from enum import StrEnum


class FileState(StrEnum):
    """What became of a landing file in a run."""

    LOADED = "loaded"
    UNCHANGED = "unchanged"  # the same bytes were loaded before
    REFUSED = "refused"
    NOT_RECOGNISED = "not recognised"
    WITHDRAWN = "withdrawn"
    IGNORED = "ignored"


class RunState(StrEnum):
    """How a refresh or a rollback ended, as the run journal records it."""

    RUNNING = "running"
    PUBLISHED = "published"  # passed its gate and published
    FAILED = "failed"  # stopped; nothing was published
    UNCHANGED = "unchanged"  # nothing had changed since the last publish: nothing to do
    HELD = "held"  # nothing had changed since a rollback: the rolled-back file stays
    DIED = "died"  # found open by a later run, its process gone
    ROLLED_BACK = "rolled back"
    NOTHING_TO_ROLL_BACK = "nothing to roll back"
    ERASED = "erased"  # a person erased from raw and the published zone, and the file built again


class FetchState(StrEnum):
    """What became of a table the Statbank connector asked for."""

    LANDED = "landed"
    UNCHANGED = "unchanged"  # the same answer as the one landed before
    FAILED = "failed"


class Severity(StrEnum):
    """How a failed quality check counts, in Great Expectations and dbt alike."""

    BLOCKING = "blocking"
    WARNING = "warning"
