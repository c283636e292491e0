"""`make torture`'s table: what the torture suite tried and how each try ended (from the tally file the
tests append to; tests/torture/tally.py). Only what was run is counted: a part of the suite not yet
built is named as such, never shown as zero.

python tests/torture/report.py TALLY.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from samskab.common.stop_points import ERASE_POINTS, REFRESH_POINTS, ROLLBACK_POINTS

FAILURES = ("fault", "hang", "failed", "hit", "injected")
KILLS = "kill points"
RECOVERED = "recovered"
READERS = "readers against the writer"
TEAM_READERS = "team readers (history and file)"  # tests/torture/test_team_load.py
TEAM = ("team faults", "PostgreSQL restarted", "team publishes")  # issue 21's proof under a team's load
POINTS = REFRESH_POINTS + ROLLBACK_POINTS + ERASE_POINTS
LIMITS = "full disk and no memory"
# What was searched for: (the outcome counting places searched, the outcome counting what was found).
SEARCHES = {"canaries": ("searched", "hit"), "HTML injections": ("checked", "injected")}
# Kills of another kind than a point of the refresh or rollback: each row shown as recorded.
OTHER_KILLS = ("serve killed",)
NOT_YET: tuple[str, ...] = ()


def unrecovered(lines: list[dict]) -> list[str]:
    """Kill points whose test did not record a recovery (it failed, or never ran although others did)."""
    kills = {line["how"]: line["outcome"] for line in lines if line["what"] == KILLS}
    return [point for point in (*POINTS, *OTHER_KILLS) if kills and kills.get(point) != RECOVERED]


def kill_table(lines: list[dict]) -> list[str]:
    kills = {line["how"]: line["outcome"] for line in lines if line["what"] == KILLS}
    if not kills:
        return ["No kill point ran."]
    out = ["| kill point (the stage it hit) | after the kill |", "| --- | --- |"]
    for point in (*POINTS, *OTHER_KILLS):
        out.append(f"| {point} | {kills.get(point, 'NOT RECOVERED: its test failed, see above')} |")
    return out


def limit_table(lines: list[dict]) -> list[str]:
    limited = {line["how"]: line["outcome"] for line in lines if line["what"] == LIMITS}
    if not limited:
        return ["No refresh ran out of disk or memory."]
    out = ["| full disk or no memory (from the stage on) | after it |", "| --- | --- |"]
    out += [f"| {how} | {outcome} |" for how, outcome in sorted(limited.items())]
    return out


def team_table(lines: list[dict]) -> list[str]:
    done = [line for line in lines if line["what"] in TEAM]
    if not done:
        return ["No team fault ran."]
    out = ["| a team's load (issue 21) | how | outcome | n |", "| --- | --- | --- | ---: |"]
    out += [f"| {line['what']} | {line['how']} | {line['outcome']} | {line.get('n', 1):,} |" for line in done]
    return out


def reader_table(lines: list[dict]) -> list[str]:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for line in lines:
        if line["what"] == READERS:
            by_kind[line["how"]][line["outcome"]] += line.get("n", 1)
        elif line["what"] == TEAM_READERS:  # readers of the shared history, and of the file beside it
            by_kind[f"{line['how']} (team: history publishes)"][line["outcome"]] += line.get("n", 1)
    if not by_kind:
        return ["No reader ran against the writer."]
    out = ["| reader against the writer | queries | failed or mixed |", "| --- | ---: | ---: |"]
    for kind, counts in sorted(by_kind.items()):
        out.append(f"| {kind} | {sum(counts.values()):,} | **{counts['failed']:,}** |")
    return out


def search_table(lines: list[dict]) -> list[str]:
    """Canaries searched for and pages checked for markup: how many places, after what, and the hits."""
    out = ["| searched | after | places | hits |", "| --- | --- | ---: | ---: |"]
    for what, (looked, found) in SEARCHES.items():
        after: dict[str, Counter] = defaultdict(Counter)
        for line in lines:
            if line["what"] == what:
                after[line["how"]][line["outcome"]] += line.get("n", 1)
        if not after:
            out.append(f"| {what} | NOT RUN | | |")
        for how, counts in sorted(after.items()):
            out.append(f"| {what} | {how} | {counts[looked]:,} | **{counts[found]:,}** |")
    return out


def table(lines: list[dict]) -> str:
    by_reader: dict[str, Counter] = defaultdict(Counter)
    for line in lines:
        if line["what"] not in (KILLS, READERS, LIMITS, TEAM_READERS, *TEAM, *SEARCHES):
            by_reader[line["what"]][line["outcome"]] += line.get("n", 1)
    out = [
        "| reader (fuzzed) | inputs | loaded | refused | crashes | hangs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    total: Counter = Counter()
    for reader in sorted(by_reader):
        counts = by_reader[reader]
        total.update(counts)
        out.append(
            f"| {reader} | {sum(counts.values()):,} | {counts['loaded']:,} | {counts['refused']:,} | "
            f"{counts['fault']:,} | {counts['hang']:,} |"
        )
    out.append(
        f"| **all** | **{sum(total.values()):,}** | {total['loaded']:,} | {total['refused']:,} | "
        f"**{total['fault']:,}** | **{total['hang']:,}** |"
    )
    out += ["", *kill_table(lines), "", *limit_table(lines), "", *reader_table(lines), "", *search_table(lines)]
    out += ["", *team_table(lines)]
    if NOT_YET:
        out += ["", "Not in the suite: " + ", ".join(NOT_YET) + "."]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    path = Path(argv[1])
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []
    if not lines:
        print(f"Nothing was tallied ({path}): did the torture tests run?")
        return 1
    print(table(lines))
    failures = sum(line.get("n", 1) for line in lines if line["outcome"] in FAILURES)
    return 1 if failures or unrecovered(lines) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
