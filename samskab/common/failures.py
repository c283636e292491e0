"""Why a run stopped, in words that are safe to show anywhere (status, notices, the Prefect UI).

A failure the platform raises itself (the gate, a refused start) carries text built from counts, names of
files and checks: it is shown as it is. Any other exception may quote a cell of the data in its message
(a conversion error names the value it could not convert), so its message is never shown: the
researcher is told its kind and, when the cause is the machine's storage (a full disk, a quota, a file
size limit, a failing disk), that cause in plain words, however deep in the chain it sits.
"""

from __future__ import annotations

import errno
import re

STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file grew larger than this machine allows",
    errno.EIO: "the disk reported an input/output error",
    errno.EROFS: "the disk is read-only",
}
# How DuckDB and the C library word the same causes inside an exception's text.
STORAGE_PHRASES = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "File too large": errno.EFBIG,
    "Input/output error": errno.EIO,
    "Read-only file system": errno.EROFS,
}


class ReportedFailure(RuntimeError):
    """A failure whose text the platform wrote itself (no cell values): safe to show as it is."""


class StorageFailure(ReportedFailure):
    """The run stopped because the data lake's disk could not be written."""


def _chain(error: BaseException) -> list[BaseException]:
    seen, found = set(), []
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def storage_cause(error: BaseException) -> str | None:
    """The storage fault behind `error` or anything it was raised from, in words; None when there is none."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in STORAGE_ERRNOS:
            return f"{STORAGE_ERRNOS[link.errno]} ({errno.errorcode[link.errno]})"
        text = str(link)
        for phrase, number in STORAGE_PHRASES.items():
            if re.search(re.escape(phrase), text, flags=re.IGNORECASE):
                return f"{STORAGE_ERRNOS[number]} ({errno.errorcode[number]})"
    return None


def as_storage_failure(error: BaseException, doing: str) -> StorageFailure | None:
    """A StorageFailure naming the real cause, when `error` comes from the disk; else None."""
    cause = storage_cause(error)
    if cause is None:
        return None
    return StorageFailure(
        f"The refresh stopped while {doing}: {cause}. Nothing was published; analysts keep the file published "
        "before. Next: free space on the disk that holds the data lake (`df -h`), then run `samskab refresh` "
        "again; what this run left behind is cleaned up by the next run."
    )


def describe(error: BaseException) -> str:
    """Why the run stopped, safe to show: our own text, the storage cause, or the exception's kind only."""
    if isinstance(error, ReportedFailure):
        return str(error)
    cause = storage_cause(error)
    if cause is not None:
        return f"The run stopped: {cause}. Free space on the data lake's disk and run it again."
    return (
        f"The run stopped with an unexpected {type(error).__name__} (its message is not shown: it may quote "
        "the data). The flow run's log names the place in the code; please report it."
    )


class DocsFailed(RuntimeError):
    """dbt or Great Expectations could not build its documentation; says why in words."""
