"""Deliveries that shrank: a new version that lost most of its rows waits for the researcher's decision.

An export cut exactly at a line end reads without error: two respondents of 786 would be published as
the wave, with only drift warnings. So when a new version of a delivery holds fewer than
`shrink_hold_share` of the rows its version in the raw layer has (in any raw table of at least
`MIN_ROWS_COMPARED` rows), it is refused, the previous version's rows stay, and it needs attention until
the researcher decides: deliver the whole file again, or `samskab accept DELIVERY`, which accepts the
files as they are now (by their sha256: a later change needs a decision of its own).
The decisions are kept in the data lake (`accepted_deliveries.json`), never in the landing zone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from samskab.common.atomic_files import write_atomically
from samskab.common.settings import Settings

MIN_ROWS_COMPARED = 20


def _rows(table: Any) -> int:
    return table.num_rows if hasattr(table, "num_rows") else len(table)


def shrinkage(previous: dict[str, int], tables: dict[str, Any], share: float) -> list[str]:
    """For each raw table the new version fills with fewer than `share` of the previous version's rows,
    "raw.T: N of the M rows its loaded version has" (empty when none shrank so far)."""
    found = []
    for table, n_before in sorted(previous.items()):
        n_now = _rows(tables[table]) if table in tables else 0
        if n_before >= MIN_ROWS_COMPARED and n_now < share * n_before:
            found.append(f"raw.{table}: {n_now:,} of the {n_before:,} rows its loaded version has")
    return found


def _read(settings: Settings) -> dict[str, Any]:
    path = settings.accepted_deliveries_path
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def accepted(settings: Settings, delivery: str, hashes: dict[str, str]) -> bool:
    """Whether the researcher accepted the delivery's files exactly as they are now."""
    return _read(settings).get(delivery, {}).get("files") == hashes


def accept(settings: Settings, delivery: str, hashes: dict[str, str]) -> None:
    """Record that the delivery's files as they are now are to be loaded even though they shrank."""
    decisions = _read(settings)
    decisions[delivery] = {"files": hashes, "accepted_at": datetime.now(UTC).isoformat(timespec="seconds")}
    settings.accepted_deliveries_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(settings.accepted_deliveries_path, json.dumps(decisions, indent=2, sort_keys=True) + "\n")


def held_reason(delivery: str, shrunk: list[str], share: float) -> str:
    return (
        f"holds far fewer rows than its version already loaded ({'; '.join(shrunk)}; the limit is "
        f"{share:.0%}, SAMSKAB_SHRINK_HOLD_SHARE). A file cut short at a line end reads without error, so the "
        "new version waits for your decision and the loaded version's rows stay: deliver the whole file again, "
        f"or if the new version is right, run `samskab accept {delivery}`"
    )
