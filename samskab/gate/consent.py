"""Consent is a gate: a recorded interview with no recorded consent stops the run before anything is built.

The case register says, for every fieldwork activity, whether it was recorded and what consent the
informants gave. An interview (the kinds marked `is_interview` in dbt_project/seeds/activity_types.csv)
that was recorded without consent 'given' must not flow into anything analysts read: the check names
each such activity (its id, case, file and row; never an informant), and the run publishes nothing.
"""

from __future__ import annotations

from pathlib import Path

from samskab.common.duckdb_files import read_only_frames
from samskab.common.reference import seed_rows
from samskab.gate.suites import BLOCKING, CheckOutcome, SuiteVerdict

SUITE = "consent"
TABLE = "raw.fieldwork_activities"


def consent_verdict(database: Path) -> tuple[SuiteVerdict, list[str]]:
    """The consent check's verdict, and one line per recorded interview that lacks consent."""
    interviews = [row["activity_type"] for row in seed_rows("activity_types") if row["is_interview"] == "true"]
    kinds = ", ".join(f"'{kind}'" for kind in interviews) or "''"
    query = (
        "select activity_id, case_id, source_file, source_row, consent_status "
        f"from {TABLE} where has_recording and activity_type in ({kinds}) order by source_file, source_row"
    )
    recorded = read_only_frames(database, {"recorded": query})["recorded"]
    missing = recorded[recorded["consent_status"].fillna("") != "given"]
    lines = [
        f"{row.activity_id} (case {row.case_id}; {row.source_file}, row {row.source_row} of its activities): "
        "a recorded interview with no recorded consent"
        for row in missing.itertuples()
    ]
    outcome = CheckOutcome(
        suite=SUITE,
        check="recorded interviews have consent",
        column="consent_status",
        severity=BLOCKING,
        success=missing.empty,
        description="Every recorded interview has the informants' consent recorded as given (samtykke).",
        observed=f"{len(missing)} of {len(recorded)} recorded interviews without recorded consent",
    )
    return SuiteVerdict(SUITE, TABLE, len(recorded), (outcome,)), lines
