"""Which exports count for a wave of the study: only those the mapping assigns to it without doubt.

The mapping (`dbt_project/seeds/survey_exports.csv`) assigns an export to a wave by its exact name, by a
pattern, or by its survey id. Two exports that claim the same wave and hold the same heads (a head is a
municipality's sector area) or the same respondent ids would be merged by the resubmission rule, one
record of each head counting: right for a wave the mapping names export by export, wrong for a second
wave or a re-export that a pattern happens to match (`samskabelse_*` takes `samskabelse_2021` too).

So, after every ingest, over the whole raw layer:
- exports of one wave that share heads or respondent ids collide, unless the mapping names each of them
  by its exact name (then the researcher has said that all of them count);
- of colliding exports, the one delivered first keeps the wave; the others are held back: loaded into
  raw whole, kept out of the wave (and so of the marts), and named as needing attention until the
  mapping says which counts (an entry of its own, a narrower pattern, or each one named) or one is
  withdrawn. When they were delivered in the same run, none can be said to be first: all are held back
  and the wave stops until the mapping decides;
- an export whose variables are mostly not those `survey_item_map.csv` ties to its wave is another
  questionnaire than the wave's: held back, and named, likewise.

Holds are recomputed from raw every run (`raw.survey_wave_holds`), so they end as soon as the cause does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import duckdb

from samskab.common.reference import seed_rows
from samskab.ingest.sources.survey.mapping import NAME

FOLDER = "survey"
SEED = "dbt_project/seeds/survey_exports.csv"
# An export holding fewer than this share of the variables the item map ties to its wave is taken for
# another questionnaire.
SAME_QUESTIONNAIRE_SHARE = 0.5


@dataclass(frozen=True)
class Claim:
    """An export's claim on a wave, as raw holds it."""

    export_id: str
    wave_id: str
    mapping_entry: str
    matched_by: str
    source_file: str
    first_delivered_at: datetime | None
    first_run_id: str | None
    heads: frozenset[tuple[int, int]]
    respondent_ids: frozenset[str]
    variables: frozenset[str]

    @property
    def delivery(self) -> str:
        return f"{FOLDER}/{self.export_id}"


@dataclass(frozen=True)
class Hold:
    """An export kept out of the wave it claims, and why (in words that name files, never values)."""

    export_id: str
    wave_id: str
    source_file: str
    reason: str

    def describe(self) -> str:
        return f"HELD BACK {FOLDER}/{self.export_id}: {self.reason}"


def _claims(connection: duckdb.DuckDBPyConnection) -> list[Claim]:
    exports = connection.execute(
        """
        select exports.export_id, exports.wave_id, exports.mapping_entry, exports.matched_by, exports.source_file,
            arrivals.first_delivered_at, arrivals.first_run_id
        from raw.survey_exports as exports
        left join raw.delivery_arrivals as arrivals on arrivals.delivery = 'survey/' || exports.export_id
        where exports.wave_id is not null
        order by exports.export_id
        """
    ).fetchall()
    if not exports:
        return []
    heads, ids, variables = defaultdict(set), defaultdict(set), defaultdict(set)
    for export_id, municipality, sector, respondent in connection.execute(
        "select export_id, municipality_code, sector_area_code, respondent_id from raw.survey_respondents "
        "where wave_id is not null"
    ).fetchall():
        if municipality is not None and sector is not None:
            heads[export_id].add((municipality, sector))
        ids[export_id].add(respondent)
    for export_id, variable in connection.execute(
        "select distinct export_id, variable_name from raw.survey_variables"
    ).fetchall():
        variables[export_id].add(variable)
    return [
        Claim(
            export_id,
            wave_id,
            entry or "",
            matched_by or "",
            file,
            arrived,
            first_run,
            frozenset(heads[export_id]),
            frozenset(ids[export_id]),
            frozenset(variables[export_id]),
        )
        for export_id, wave_id, entry, matched_by, file, arrived, first_run in exports
    ]


def _wave_variables() -> dict[str, set[str]]:
    by_wave: dict[str, set[str]] = defaultdict(set)
    for row in seed_rows("survey_item_map"):
        by_wave[row["wave_id"].strip()].add(row["variable_name"].strip())
    return by_wave


def _overlap(one: Claim, other: Claim) -> str | None:
    """How two exports overlap, in words, or None."""
    shared_heads = len(one.heads & other.heads)
    shared_ids = len(one.respondent_ids & other.respondent_ids)
    parts = []
    if shared_heads:
        parts.append(f"{shared_heads:,} heads")
    if shared_ids:
        parts.append(f"{shared_ids:,} respondent ids")
    return " and ".join(parts) or None


def _how(claim: Claim) -> str:
    return f"mapping entry '{claim.mapping_entry}'" if claim.mapping_entry else "the mapping"


def find_holds(connection: duckdb.DuckDBPyConnection) -> list[Hold]:
    """The exports to keep out of the wave they claim, with the reason for each."""
    claims = _claims(connection)
    wave_variables = _wave_variables()
    holds: dict[str, Hold] = {}
    for claim in claims:
        expected = wave_variables.get(claim.wave_id, set())
        if expected:
            found = len(expected & claim.variables)
            if found < SAME_QUESTIONNAIRE_SHARE * len(expected):
                holds[claim.export_id] = Hold(
                    claim.export_id,
                    claim.wave_id,
                    claim.source_file,
                    f"kept out of wave {claim.wave_id}, which {_how(claim)} in {SEED} gives it: its "
                    f"questionnaire differs from the wave's (it holds {found} of the {len(expected)} variables "
                    f"survey_item_map.csv ties to wave {claim.wave_id}). It is loaded into raw whole but stays "
                    f"out of the marts. Next: give it an entry of its own in {SEED}, or narrow the pattern",
                )
    by_wave: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        if claim.export_id not in holds:
            by_wave[claim.wave_id].append(claim)
    for wave_id, members in sorted(by_wave.items()):
        for group in _colliding_groups(members):
            if all(claim.matched_by == NAME for claim in group):
                continue  # the mapping names each export: all of them count, the resubmission rule decides
            holds.update({hold.export_id: hold for hold in _hold_all_but_first(wave_id, group)})
    return sorted(holds.values(), key=lambda hold: hold.export_id)


def _colliding_groups(claims: list[Claim]) -> list[list[Claim]]:
    """Exports of one wave, grouped where they overlap (directly or through another export)."""
    parent = {claim.export_id: claim.export_id for claim in claims}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for index, one in enumerate(claims):
        for other in claims[index + 1 :]:
            if _overlap(one, other):
                parent[root(other.export_id)] = root(one.export_id)
    groups: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        groups[root(claim.export_id)].append(claim)
    return [group for group in groups.values() if len(group) > 1]


def _hold_all_but_first(wave_id: str, group: list[Claim]) -> list[Hold]:
    # The export first loaded in a run before the others' counts; exports first loaded in one run arrived
    # together, and none of them can be said to be first.
    arrived = [claim for claim in group if claim.first_delivered_at is not None]
    earliest = min(arrived, key=lambda claim: claim.first_delivered_at) if len(arrived) == len(group) else None
    together = [claim for claim in group if earliest is not None and claim.first_run_id == earliest.first_run_id]
    kept = earliest if len(together) == 1 else None
    advice = (
        f"Next: say in {SEED} which counts: an entry of its own (its own wave) for an export that is not "
        f"wave {wave_id}, a narrower pattern, or, when all of them are parts of wave {wave_id}, an entry naming "
        "each export exactly; or move the one that should not count into landing/withdrawn/"
    )
    holds = []
    for claim in group:
        if claim is kept:
            continue
        others = [other for other in group if other is not claim]
        overlaps = "; ".join(
            f"it shares {_overlap(claim, other)} with {other.delivery}" for other in others if _overlap(claim, other)
        )
        if kept is not None:
            why = (
                f"kept out of wave {claim.wave_id}: {_how(claim)} in {SEED} gives it that wave, but "
                f"{kept.delivery}, delivered earlier, already counts for it: {overlaps} (a head is one municipality's "
                "sector area), and two exports of one wave are never merged unless the mapping names each. It is "
                "loaded into raw whole but "
                f"stays out of the marts; {kept.delivery} keeps counting. {advice}"
            )
        else:
            why = (
                f"kept out of wave {claim.wave_id}, and the wave stops: {_how(claim)} in {SEED} gives it that wave, as "
                f"it does {', '.join(other.delivery for other in others)}, delivered at the same time: {overlaps} "
                f"(a head is one municipality's sector area), so it cannot be told which counts. They are loaded "
                f"into raw whole, but wave {claim.wave_id} "
                f"stays out of the marts until the mapping decides. {advice}"
            )
        holds.append(Hold(claim.export_id, claim.wave_id, claim.source_file, why))
    return holds


def review(connection: duckdb.DuckDBPyConnection) -> list[Hold]:
    """After ingest: find the exports to hold back and record them for dbt; returns them."""
    holds = find_holds(connection)
    record_holds(connection, holds)
    return holds


def record_holds(connection: duckdb.DuckDBPyConnection, holds: list[Hold]) -> None:
    """Replace raw.survey_wave_holds with this run's holds (dbt keeps held exports out of their wave)."""
    connection.execute("begin transaction")
    try:
        connection.execute("delete from raw.survey_wave_holds")
        for hold in holds:
            connection.execute(
                "insert into raw.survey_wave_holds (export_id, wave_id, reason, source_file, source_row) "
                "values (?, ?, ?, ?, null)",
                [hold.export_id, hold.wave_id, hold.reason, hold.source_file],
            )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
