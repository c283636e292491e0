"""Named points in the platform's work where the torture suite stops a process, to kill it there.

A kill timed by a clock lands wherever the work happens to be on this machine today; a kill at a named
point lands in the stage it names, on a slow machine or a fast one. Each stage calls `reached(point)`
while its work is under way (a candidate half written, the published file renamed away but not yet
replaced, ...). Unless a test asks, that is one look at the environment and nothing else; a researcher
never sets these variables:

- SAMSKAB_TORTURE_STOP_AT names one point;
- SAMSKAB_TORTURE_STOP_LOG names a file: the process that reaches the point appends "<point> <pid>" to
  it and stops itself (SIGSTOP). The suite reads the line, and kills the whole process group there
  (SIGKILL, which a stopped process cannot escape), so the kill provably hits the running stage;
- SAMSKAB_TORTURE_LIMIT, instead of a stop, limits the process from that point on, as a full disk or a
  machine out of memory would: `file size` (no file may grow past 1 MB: writes fail with EFBIG) or
  `memory` (its address space may not grow at all). The line appended then ends in "limited".
"""

from __future__ import annotations

import os
import resource
import signal
from pathlib import Path

STOP_AT = "SAMSKAB_TORTURE_STOP_AT"
STOP_LOG = "SAMSKAB_TORTURE_STOP_LOG"
LIMIT = "SAMSKAB_TORTURE_LIMIT"
FILE_SIZE, MEMORY = "file size", "memory"

# Every point of a refresh, in the order it reaches them; then the rollback's, the erasure's and the history's.
REFRESH_POINTS = (
    "registry fetch",  # the first declared Statbank table fetched and landed, the others not yet
    "landing survey",  # the raw layer prepared, the landing zone not yet listed
    "reader",  # a reader's process, before it reads its delivery
    "raw commit",  # a delivery's rows inserted into raw, not yet committed
    "raw checks",  # Great Expectations on raw: one suite validated, the others not
    "dbt start",  # the first dbt node done
    "dbt middle",  # half of dbt's nodes done
    "dbt end",  # every dbt node done, dbt not yet returned
    "candidate",  # the candidate file half written
    "mart checks",  # the candidate's drift checks under way
    "swap",  # the published file kept as the previous one, the candidate not yet renamed over it
    "snapshot",  # the new file published, its dated snapshot not yet named
    "documentation",  # the documentation of the new file being built
    "journal close",  # everything done, the run's record not yet closed
)
ROLLBACK_POINTS = ("rollback",)  # the published file renamed away, the previous one not yet in its place
ERASE_POINTS = (
    "erase raw",  # the person's raw rows deleted and put on the suppression list, not yet committed
    "erase compaction",  # the warehouse without them half written beside the old one
    "erase rewrite",  # a snapshot's rewrite written and its new checksum too, the old file not yet replaced
)
HISTORY_POINTS = ("history commit",)  # every table written to the shared history, its transaction not yet committed
POINTS = REFRESH_POINTS + ROLLBACK_POINTS + ERASE_POINTS + HISTORY_POINTS


def reached(point: str) -> None:
    """Stop here if the torture suite asked for this point; otherwise do nothing."""
    if os.environ.get(STOP_AT) != point:
        return
    log = os.environ.get(STOP_LOG)
    if not log:
        return
    limit = os.environ.get(LIMIT)
    with open(log, "a", encoding="utf-8") as said:
        said.write(f"{point} {os.getpid()}{' limited' if limit else ''}\n")
    if limit == FILE_SIZE:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    elif limit == MEMORY:
        pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[0]
        in_use = int(pages) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (in_use, resource.getrlimit(resource.RLIMIT_AS)[1]))
    else:
        os.kill(os.getpid(), signal.SIGSTOP)
