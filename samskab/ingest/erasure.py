"""Erasure in the raw layer: a person who withdrew consent or asked to be erased leaves raw, and stays out.

A person is named by pseudonyms only (samskab/ingest/pseudonyms.py): a respondent's record pseudonym and
the pseudonyms of the name and e-mail the export typed, or an informant's. `samskab erase` puts them on the
suppression list (`privacy.suppressed` in the warehouse, beside raw, so it outlives a rebuilt raw layer) and
removes the person's rows from raw; every load of a delivery removes them again before it commits
(raw_store.load_batch), so a re-delivered export never brings them back. Every erasure is recorded in
`privacy.erasures` by pseudonym and date, never by name.

A pseudonym is made with one key: the list holds the fingerprint of the key its pseudonyms were made with,
and a raw layer is never rebuilt under another key while the list holds entries of the old one (the people
on it could not be recognised and would come back): `KeyChangeWouldUnerase`.

What a respondent leaves in raw: their record in raw.survey_respondents and every row of the raw tables
keyed by (export_id, respondent_id) (answers, open answers, unresolved municipalities). An informant: their
row in raw.case_informants and their id in the activities' `informant_ids`.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from samskab.common import stop_points
from samskab.common.atomic_files import flushed_like
from samskab.common.failures import ReportedFailure
from samskab.ingest.pseudonyms import Pseudonymiser

SUPPRESSED_DDL = (
    "create table if not exists privacy.suppressed ("
    "pseudonym varchar, kind varchar, key_fingerprint varchar, erasure_id varchar, erased_on date)"
)
ERASURES_DDL = (
    "create table if not exists privacy.erasures ("
    "erasure_id varchar, erased_at timestamp, person_kind varchar, pseudonyms varchar, "
    "key_fingerprint varchar, n_raw_rows bigint, note varchar)"
)
RESPONDENT, INFORMANT = "respondent", "informant"
# Which pseudonym column of raw names a suppressed pseudonym of each kind
RESPONDENT_COLUMNS = {
    "respondent": "respondent_pseudonym",
    "name": "respondent_name_pseudonym",
    "email": "email_pseudonym",
}


class KeyChangeWouldUnerase(ReportedFailure):
    """The suppression list holds pseudonyms of another key: rebuilding raw under this one would bring the
    erased people back."""


@dataclass(frozen=True)
class Person:
    """Who to erase, as pseudonyms of the current key (never the name or e-mail itself)."""

    kind: str  # RESPONDENT or INFORMANT
    pseudonyms: dict[str, str]  # pseudonym kind ("respondent", "name", "email", "informant") -> pseudonym
    respondent_ids: tuple[tuple[str, str], ...] = ()  # (export_id, respondent_id) as the export gives it


def respondent_by_identity(pseudonymise: Pseudonymiser, name: str | None, email: str | None) -> Person:
    """A respondent named by the name and/or e-mail as typed in the export, turned into pseudonyms."""
    pseudonyms = {}
    if name and name.strip():
        pseudonyms["name"] = pseudonymise("name", name)
    if email and email.strip():
        pseudonyms["email"] = pseudonymise("email", email)
    if not pseudonyms:
        raise ValueError("Name the respondent by --name, --email or both, or by --respondent and the export's id.")
    return Person(RESPONDENT, pseudonyms)


def respondent_by_id(respondent_id: str, export_id: str | None = None) -> Person:
    """A respondent named by the id their export gives them (in one export, or in any)."""
    return Person(RESPONDENT, {}, ((export_id or "", respondent_id),))


def informant_by_name(pseudonymise: Pseudonymiser, name: str) -> Person:
    if not name or not name.strip():
        raise ValueError("Name the informant as the case register types the name.")
    return Person(INFORMANT, {"informant": pseudonymise("informant", name)})


def ensure_privacy_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("create schema if not exists privacy")
    connection.execute(SUPPRESSED_DDL)
    connection.execute(ERASURES_DDL)


@dataclass
class Found:
    """What raw holds of a person: their pseudonyms (all kinds) and rows per raw table."""

    person: Person
    pseudonyms: dict[str, set[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def every_pseudonym(self) -> set[str]:
        return set().union(*self.pseudonyms.values()) if self.pseudonyms else set()


def _tables(connection: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for table, column in connection.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'raw'"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    return columns


def _respondent_keys_table(connection: duckdb.DuckDBPyConnection, person: Person) -> None:
    """A temporary table `erased_respondents` of the (export_id, respondent_id) records of the person."""
    connection.execute("create or replace temp table erased_respondents (export_id varchar, respondent_id varchar)")
    for kind, pseudonym in person.pseudonyms.items():
        column = RESPONDENT_COLUMNS[kind]
        connection.execute(
            f"insert into erased_respondents select export_id, respondent_id from raw.survey_respondents "
            f"where {column} = ?",
            [pseudonym],
        )
    for export_id, respondent_id in person.respondent_ids:
        connection.execute(
            "insert into erased_respondents select export_id, respondent_id from raw.survey_respondents "
            "where respondent_id = ? and (? = '' or export_id = ?)",
            [respondent_id, export_id, export_id],
        )
    connection.execute("create or replace temp table erased_respondents as select distinct * from erased_respondents")


def find(connection: duckdb.DuckDBPyConnection, person: Person) -> Found:
    """What raw holds of the person, changing nothing."""
    found = Found(person)
    tables = _tables(connection)
    if person.kind == RESPONDENT:
        _respondent_keys_table(connection, person)
        for kind, column in RESPONDENT_COLUMNS.items():
            values = connection.execute(
                f"select distinct r.{column} from raw.survey_respondents r join erased_respondents using "
                f"(export_id, respondent_id) where r.{column} is not null"
            ).fetchall()
            found.pseudonyms[kind] = {value for (value,) in values} | (
                {person.pseudonyms[kind]} if kind in person.pseudonyms else set()
            )
        for table, columns in sorted(tables.items()):
            if {"export_id", "respondent_id"} <= columns:
                (n,) = connection.execute(
                    f"select count(*) from raw.{table} join erased_respondents using (export_id, respondent_id)"
                ).fetchone()
                if n:
                    found.rows[table] = n
    else:
        pseudonym = person.pseudonyms["informant"]
        found.pseudonyms["informant"] = {pseudonym}
        (n,) = connection.execute(
            "select count(*) from raw.case_informants where informant_pseudonym = ?", [pseudonym]
        ).fetchone()
        if n:
            found.rows["case_informants"] = n
            (m,) = connection.execute(
                "select count(*) from raw.fieldwork_activities a where exists (select 1 from raw.case_informants i "
                "where i.informant_pseudonym = ? "
                "and list_contains(string_split(a.informant_ids, ','), i.informant_id))",
                [pseudonym],
            ).fetchone()
            if m:
                found.rows["fieldwork_activities (informant listed)"] = m
    return found


WORD = re.compile(r"\w+(?:[-']\w+)*")
NAME_WORDS = (2, 3, 4)  # a name in free text: two to four words in a row
NAME_MARK = "[navn]"  # as the scrubbing of open answers marks a name (samskab/ingest/sources/survey/scrub.py)


def _redact_names(connection: duckdb.DuckDBPyConnection, pseudonymise: Pseudonymiser) -> int:
    """Mark every mention of an erased respondent's name in raw's open answers (another head writing "kontakt:
    <name>") as NAME_MARK: each run of two to four words is turned into a name pseudonym and looked up on the
    suppression list, which holds no name. Returns the answers changed."""
    names = {
        row[0] for row in connection.execute("select pseudonym from suppressed_now where kind = 'name'").fetchall()
    }
    if not names:
        return 0
    changed = 0
    for rowid, text, n_redactions in connection.execute(
        "select rowid, answer_text, n_redactions from raw.survey_open_answers where answer_text is not null"
    ).fetchall():
        words = list(WORD.finditer(text))
        spans = []
        for size in NAME_WORDS:
            for start in range(len(words) - size + 1):
                run = words[start : start + size]
                if pseudonymise("name", " ".join(word.group() for word in run)) in names:
                    spans.append((run[0].start(), run[-1].end()))
        if not spans:
            continue
        redacted, n = text, 0
        for begin, end in sorted(set(spans), reverse=True):
            if redacted[begin:end] != NAME_MARK:
                redacted, n = redacted[:begin] + NAME_MARK + redacted[end:], n + 1
        connection.execute(
            "update raw.survey_open_answers set answer_text = ?, n_redactions = ? where rowid = ?",
            [redacted, (n_redactions or 0) + n, rowid],
        )
        changed += 1
    return changed


def remove_suppressed(
    connection: duckdb.DuckDBPyConnection,
    key_fingerprint: str | None = None,
    pseudonymise: Pseudonymiser | None = None,
) -> dict[str, int]:
    """Remove from raw every row of every person on the suppression list (of the key of `key_fingerprint`,
    or of any key when None), and with `pseudonymise` (that key) mark their names in others' open answers.
    Returns rows removed (or changed) per table. Runs inside the caller's transaction."""
    if not connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'privacy' and table_name = 'suppressed'"
    ).fetchone()[0]:
        return {}
    condition = "" if key_fingerprint is None else "where key_fingerprint = ?"
    params = [] if key_fingerprint is None else [key_fingerprint]
    connection.execute(
        f"create or replace temp table suppressed_now as select distinct pseudonym, kind from privacy.suppressed "
        f"{condition}",
        params,
    )
    removed: dict[str, int] = {}
    tables = _tables(connection)
    if "survey_respondents" in tables:
        connection.execute(
            "create or replace temp table erased_respondents as select distinct export_id, respondent_id "
            "from raw.survey_respondents r join suppressed_now s on "
            "(s.kind = 'respondent' and r.respondent_pseudonym = s.pseudonym) or "
            "(s.kind = 'name' and r.respondent_name_pseudonym = s.pseudonym) or "
            "(s.kind = 'email' and r.email_pseudonym = s.pseudonym)"
        )
        # the records themselves last: the others are found through them
        keyed = [
            t for t, c in sorted(tables.items()) if {"export_id", "respondent_id"} <= c and t != "survey_respondents"
        ]
        for table in [*keyed, "survey_respondents"]:
            (n,) = connection.execute(
                f"delete from raw.{table} where (export_id, respondent_id) in "
                "(select (export_id, respondent_id) from erased_respondents)"
            ).fetchone()
            if n:
                removed[table] = n
        if pseudonymise is not None and "survey_open_answers" in tables:
            named = _redact_names(connection, pseudonymise)
            if named:
                removed["survey_open_answers (name of an erased head marked)"] = named
    if "case_informants" in tables:
        ids = [
            row[0]
            for row in connection.execute(
                "select distinct informant_id from raw.case_informants where informant_pseudonym in "
                "(select pseudonym from suppressed_now where kind = 'informant')"
            ).fetchall()
        ]
        if ids:
            (n,) = connection.execute(
                "update raw.fieldwork_activities set informant_ids = nullif(array_to_string(list_filter("
                "string_split(informant_ids, ','), x -> not list_contains($ids, x)), ','), '') "
                "where list_has_any(string_split(informant_ids, ','), $ids)",
                {"ids": ids},
            ).fetchone()
            if n:
                removed["fieldwork_activities"] = n
        connection.execute("create or replace temp table erased_informants (informant_id varchar)")
        if ids:
            connection.executemany("insert into erased_informants values (?)", [[i] for i in ids])
        (n,) = connection.execute(
            "delete from raw.case_informants where informant_id in (select informant_id from erased_informants)"
        ).fetchone()
        if n:
            removed["case_informants"] = n
    return removed


def suppressed_under_other_keys(connection: duckdb.DuckDBPyConnection, key_fingerprint: str) -> int:
    """How many erasures the suppression list holds under keys other than this one."""
    if not connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'privacy' and table_name = 'suppressed'"
    ).fetchone()[0]:
        return 0
    (n,) = connection.execute(
        "select count(distinct erasure_id) from privacy.suppressed where key_fingerprint <> ?", [key_fingerprint]
    ).fetchone()
    return n


def refuse_key_change_with_erasures(connection: duckdb.DuckDBPyConnection, key_fingerprint: str) -> None:
    n = suppressed_under_other_keys(connection, key_fingerprint)
    if n:
        raise KeyChangeWouldUnerase(
            f"The pseudonym key is not the one {n} erasure(s) were made under: read again under this key, the "
            "landing zone's originals would bring those people back, as their pseudonyms under it are not on "
            "the suppression list. Run with the previous key (SAMSKAB_PSEUDONYM_KEY), or first remove those "
            "people from the landing zone's originals and make each erasure again under the new key "
            "(`samskab erase`); `samskab erase --list` shows the erasures by date."
        )


def erase(
    connection: duckdb.DuckDBPyConnection, person: Person, pseudonymise: Pseudonymiser, found: Found | None = None
) -> tuple[str, Found]:
    """Put the person on the suppression list and remove them from raw, in one transaction. Returns the
    erasure's id and what was found (and removed); `found`: what `find` found of them already."""
    ensure_privacy_schema(connection)
    key_fingerprint = pseudonymise.key_fingerprint
    found = found or find(connection, person)
    erasure_id = uuid.uuid4().hex[:12]
    today = date.today()
    connection.execute("begin transaction")
    try:
        for kind, pseudonyms in found.pseudonyms.items():
            for pseudonym in sorted(pseudonyms):
                connection.execute(
                    "insert into privacy.suppressed values (?, ?, ?, ?, ?)",
                    [pseudonym, kind, key_fingerprint, erasure_id, today],
                )
        removed = remove_suppressed(connection, key_fingerprint, pseudonymise)
        connection.execute(
            "insert into privacy.erasures values (?, ?, ?, ?, ?, ?, ?)",
            [
                erasure_id,
                datetime.now(UTC).replace(tzinfo=None),
                person.kind,
                ", ".join(sorted(found.every_pseudonym)),
                key_fingerprint,
                sum(removed.values()),
                None,
            ],
        )
        stop_points.reached("erase raw")
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    found.rows = removed
    return erasure_id, found


def erasures(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every erasure, oldest first: (id, when, kind, pseudonyms, rows removed from raw). Reads only."""
    if not connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'privacy' and table_name = 'erasures'"
    ).fetchone()[0]:
        return []
    return connection.execute(
        "select erasure_id, erased_at, person_kind, pseudonyms, n_raw_rows from privacy.erasures order by erased_at"
    ).fetchall()


def compact_warehouse(path: Path) -> None:
    """Write the warehouse anew, table by table, and put it in place of the old file: DuckDB keeps deleted
    and overwritten rows in the file's freed blocks until it reuses them, so an erased person's name and
    pseudonyms would linger in its bytes. Only under the refresh lock, with no connection open."""
    partial = path.with_name(path.name + ".compacting")
    partial.unlink(missing_ok=True)
    connection = duckdb.connect()
    try:
        # attached under the name the file has when opened, so views naming it bind as they were made
        connection.execute(f"attach '{path}' as {path.stem} (read_only)")
        connection.execute(f"attach '{partial}' as compacted")
        connection.execute(f"copy from database {path.stem} to compacted")
        connection.execute("checkpoint compacted")
        stop_points.reached("erase compaction")
    finally:
        connection.close()
    flushed_like(partial, path)
    os.replace(partial, path)
