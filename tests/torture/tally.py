"""What the torture tests tried and how each try ended, for `make torture`'s table.

With SAMSKAB_TORTURE_TALLY set to a file, every outcome is appended to it as a JSON line (workers append
to the same file; a line is written in one call). Without it, nothing is kept.
"""

from __future__ import annotations

import json
import os


def record(what: str, how: str, outcome: str, n: int = 1) -> None:
    """`n` tries (one by default) of what (a reader, a kill point), how (the damage, the stage), all with
    this outcome."""
    path = os.environ.get("SAMSKAB_TORTURE_TALLY")
    if not path:
        return
    line = json.dumps({"what": what, "how": how, "outcome": outcome, "n": n}, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as tally:
        tally.write(line)
