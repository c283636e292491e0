"""The raw layer of the warehouse: typed tables, the ingest ledger and the rejects table.

Every landing file is recorded in `raw.ingest_ledger` by its sha256. A delivery whose bytes are all
recorded already is a no-op; a changed delivery replaces the rows that came from its files, so each raw
row always names the file and line it came from and no earlier good data is lost to a bad file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.sources.common import Reject, SourceBatch

RAW_TABLES: dict[str, str] = {
    "survey_respondents": """
        export_id varchar not null, respondent_id bigint, municipality_code integer,
        sector_area_code integer, status_code integer, created_at timestamp, started_at timestamp,
        closed_at timestamp, modified_at timestamp, respondent_name_pseudonym varchar,
        email_pseudonym varchar""",
    "survey_answers": "export_id varchar not null, respondent_id bigint, variable_name varchar, answer_value integer",
    "survey_open_answers": """
        export_id varchar not null, respondent_id bigint, variable_name varchar, answer_text varchar""",
    "survey_variables": """
        export_id varchar not null, question_name varchar, variable_name varchar, question_type varchar,
        sub_type varchar, question_text varchar, choice_value integer, choice_text varchar""",
    "survey_value_labels": "export_id varchar not null, variable_name varchar, value integer, label varchar",
    "statbank_population": """
        table_id varchar, area_label varchar, municipality_code integer, area_level varchar,
        quarter varchar, population bigint""",
    "case_studies": """
        case_id varchar, municipality_code integer, effort_title varchar, knowledge_area varchar,
        fieldwork_start_date date, fieldwork_end_date date""",
    "fieldwork_activities": """
        activity_id varchar, case_id varchar, activity_type varchar, activity_date date,
        informant_role varchar, n_participants integer, has_consent boolean, has_recording boolean,
        has_transcript boolean, informant_pseudonym varchar""",
}
# Tables that hold free text which may name people: they never leave the raw layer.
RAW_ONLY_TABLES = frozenset({"survey_open_answers"})

LEDGER_DDL = """
create table if not exists raw.ingest_ledger (
    run_id varchar, source varchar, file varchar, sha256 varchar, n_bytes bigint,
    n_rows bigint, n_rejected bigint, loaded_at timestamp, is_current boolean
)"""
REJECTS_DDL = """
create table if not exists raw.rejected_rows (
    run_id varchar, source varchar, file varchar, line integer, column_name varchar,
    reason varchar, rejected_at timestamp
)"""


@dataclass
class LoadSummary:
    """What one delivery did to the raw layer, in the words of a log line."""

    source: str
    delivery: str
    skipped: bool
    rows: dict[str, int] = field(default_factory=dict)
    n_rejected: int = 0
    rejects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.skipped:
            return f"{self.delivery}: unchanged since it was loaded (same sha256), nothing to do"
        loaded = ", ".join(f"{n:,} rows into raw.{table}" for table, n in self.rows.items())
        text = f"{self.delivery}: " + (f"loaded {loaded}" if loaded else "nothing loaded")
        if self.n_rejected:
            text += f"; rejected {self.n_rejected} rows (see meta.rejected_rows), first: {self.rejects[0]}"
        else:
            text += "; no rows rejected"
        return text


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("create schema if not exists raw")
    for table, columns in RAW_TABLES.items():
        connection.execute(
            f"create table if not exists raw.{table} ({columns}, source_file varchar not null, source_row integer)"
        )
    connection.execute(LEDGER_DDL)
    connection.execute(REJECTS_DDL)


def _relative(path: Path | str, landing_dir: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(landing_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def delivery_is_loaded(connection: duckdb.DuckDBPyConnection, hashes: list[str]) -> bool:
    """True when every file's exact bytes are already current in the ledger (a re-delivery)."""
    placeholders = ", ".join("?" for _ in hashes)
    known = connection.execute(
        f"select count(distinct sha256) from raw.ingest_ledger where is_current and sha256 in ({placeholders})",
        hashes,
    ).fetchall()[0][0]
    return known == len(set(hashes))


def record_unreadable(connection: duckdb.DuckDBPyConnection, reject: Reject, run_id: str, landing_dir: Path) -> str:
    """Record a delivery that could not be read at all. The ledger and the raw rows of its last good
    version stay as they were, so lineage still names the files those rows came from."""
    file = _relative(reject.file, landing_dir)
    connection.execute("delete from raw.rejected_rows where file = ?", [file])
    connection.execute(
        "insert into raw.rejected_rows values (?, ?, ?, ?, ?, ?, ?)",
        [run_id, reject.source, file, reject.row, reject.column, reject.reason, datetime.now(UTC).replace(tzinfo=None)],
    )
    return file


def load_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: SourceBatch,
    run_id: str,
    landing_dir: Path,
    delivery: str,
    hashes: dict[Path, str],
) -> LoadSummary:
    """Replace the raw rows of this delivery's files with the batch, record rejects and the ledger."""
    files = [_relative(path, landing_dir) for path in batch.files]
    now = datetime.now(UTC).replace(tzinfo=None)
    summary = LoadSummary(source=batch.source, delivery=delivery, skipped=False, notes=list(batch.notes))
    placeholders = ", ".join("?" for _ in files)
    connection.execute("begin transaction")
    try:
        for table, frame in batch.tables.items():
            frame = frame.copy()
            frame["source_file"] = frame["source_file"].map(lambda path: _relative(path, landing_dir))
            connection.execute(f"delete from raw.{table} where source_file in ({placeholders})", files)
            connection.register("incoming", frame)
            connection.execute(f"insert into raw.{table} by name select * from incoming")
            connection.unregister("incoming")
            summary.rows[table] = len(frame)
        connection.execute(f"delete from raw.rejected_rows where file in ({placeholders})", files)
        for reject in batch.rejects:
            file = _relative(reject.file, landing_dir)
            connection.execute(
                "insert into raw.rejected_rows values (?, ?, ?, ?, ?, ?, ?)",
                [run_id, reject.source, file, reject.row, reject.column, reject.reason, now],
            )
            summary.rejects.append(
                f"{file}, line {reject.row}"
                + (f", column {reject.column}" if reject.column else "")
                + f": {reject.reason}"
            )
        summary.n_rejected = len(batch.rejects)
        connection.execute(f"update raw.ingest_ledger set is_current = false where file in ({placeholders})", files)
        for path, relative in zip(batch.files, files, strict=True):
            n_rows = sum(int((frame["source_file"] == str(path)).sum()) for frame in batch.tables.values())
            n_rejected = sum(1 for reject in batch.rejects if Path(reject.file) == Path(path))
            connection.execute(
                "insert into raw.ingest_ledger values (?, ?, ?, ?, ?, ?, ?, ?, true)",
                [run_id, batch.source, relative, hashes[path], path.stat().st_size, n_rows, n_rejected, now],
            )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    return summary
