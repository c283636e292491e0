"""Why a run stopped, in words that are safe to show anywhere (status, notices, the Prefect UI).

A failure the platform raises itself (the gate, a refused start) carries text built from counts, names of
files and checks: it is shown as it is. Any other exception may quote a cell of the data in its message
(a conversion error names the value it could not convert), so its message is never shown: the
researcher is told its kind and, when the cause is the machine itself (a full disk, a quota, a file
size limit, a failing disk, memory run out), that cause in plain words, however deep in the chain it sits.
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


# How Python, DuckDB and the C library say that memory ran out.
MEMORY_PHRASES = ("Out of Memory", "bad allocation", "bad_alloc", "Cannot allocate memory")
OUT_OF_MEMORY = "the machine ran out of memory (ENOMEM)"


class ReportedFailure(RuntimeError):
    """A failure whose text the platform wrote itself (no cell values): safe to show as it is."""


class StorageFailure(ReportedFailure):
    """The run stopped because the data lake's disk could not be written."""


class MemoryFailure(ReportedFailure):
    """The run stopped because the machine's memory ran out."""


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
        cause = storage_cause_in(str(link))
        if cause is not None:
            return cause
    return None


def storage_cause_in(text: str) -> str | None:
    """The storage fault a message (DuckDB's, dbt's) names, in words; None when it names none."""
    for phrase, number in STORAGE_PHRASES.items():
        if re.search(re.escape(phrase), text, flags=re.IGNORECASE):
            return f"{STORAGE_ERRNOS[number]} ({errno.errorcode[number]})"
    return None


def memory_cause_in(text: str) -> str | None:
    """OUT_OF_MEMORY when a message (DuckDB's, dbt's) says memory ran out; else None."""
    return OUT_OF_MEMORY if any(phrase.casefold() in text.casefold() for phrase in MEMORY_PHRASES) else None


def memory_cause(error: BaseException) -> str | None:
    """OUT_OF_MEMORY when `error` or anything it was raised from is memory running out; else None."""
    for link in _chain(error):
        if isinstance(link, MemoryError) or (isinstance(link, OSError) and link.errno == errno.ENOMEM):
            return OUT_OF_MEMORY
        if memory_cause_in(str(link)) is not None:
            return OUT_OF_MEMORY
    return None


def machine_cause(error: BaseException) -> str | None:
    """The disk's or the memory's fault behind `error`, in words; None when the machine is not the cause."""
    return storage_cause(error) or memory_cause(error)


def machine_cause_in(text: str) -> str | None:
    """The disk's or the memory's fault a message (DuckDB's, dbt's) names, in words; else None."""
    return storage_cause_in(text) or memory_cause_in(text)


def machine_failure(cause: str, doing: str) -> StorageFailure | MemoryFailure:
    """The failure to raise when the machine stopped the run (`cause`: a storage cause or OUT_OF_MEMORY)."""
    if cause == OUT_OF_MEMORY:
        return MemoryFailure(
            f"The refresh stopped while {doing}: {cause}. Nothing was published; analysts keep the file "
            "published before. Next: stop what else uses this machine's memory (or give it more), then run "
            "`samskab refresh` again; what this run left behind is cleaned up by the next run."
        )
    return StorageFailure(
        f"The refresh stopped while {doing}: {cause}. Nothing was published; analysts keep the file published "
        "before. Next: free space on the disk that holds the data lake (`df -h`), then run `samskab refresh` "
        "again; what this run left behind is cleaned up by the next run."
    )


def as_machine_failure(error: BaseException, doing: str) -> StorageFailure | MemoryFailure | None:
    """The failure naming the real cause, when the disk or the memory stopped `error`; else None."""
    cause = machine_cause(error)
    return None if cause is None else machine_failure(cause, doing)


def describe(error: BaseException) -> str:
    """Why the run stopped, safe to show: our own text, the storage cause, or the exception's kind only."""
    if isinstance(error, ReportedFailure):
        return str(error)
    cause = storage_cause(error)
    if cause is not None:
        return f"The run stopped: {cause}. Free space on the data lake's disk and run it again."
    if memory_cause(error) is not None:
        return f"The run stopped: {OUT_OF_MEMORY}. Stop what else uses this machine's memory and run it again."
    return (
        f"The run stopped with an unexpected {type(error).__name__} (its message is not shown: it may quote "
        "the data). The refresh's debug log names the place in the code; please report it."
    )


class DocsFailed(RuntimeError):
    """dbt or Great Expectations could not build its documentation; says why in words."""
