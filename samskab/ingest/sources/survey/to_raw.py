"""Any survey export -> the raw survey tables: long-format answers, respondents, and the codebook.

Whatever the shape, the export lands intact: every variable that is not an identifier or free text
becomes long-format answers (respondent, variable, value as delivered in canonical text, file, row);
the codebook (variables with their labels and roles, value labels with don't-know, not-applicable and
no-answer codes flagged) is taken from the export itself. An export that no mapping entry matches lands
the same way and is reported as unmapped; the marts read mapped exports only.

Rules, written once:
- Respondent id: a row without one, or repeating an earlier row's, is rejected (the first is kept).
- Identifiers: names and e-mails become keyed pseudonyms here; IP addresses and locations are dropped.
  Free-text answers are scrubbed (e-mails, phone and CPR numbers, the respondent's own name) and kept
  in a raw-only table. A cell holding a NUL character rejects its row.
- Status: from the export's status block (SurveyXact's statoverall: exactly one of its 0/1 variables
  is 1), else derived by one rule: completed when the export says the response was finished (a close
  time, or Qualtrics' Finished = 1), partial when any questionnaire answer is given, otherwise
  distributed (invited, nothing answered).
- Municipality (mapped exports): the value's label when the export labels it, else the value itself,
  resolved from codes or names (`samskab.ingest.sources.municipalities`). A value that does not resolve with
  certainty rejects its row, which is held with its text in a raw-only quarantine table. Christiansø
  is recognised, kept in raw with its own area level, and left out of the marts.
- Cells: a number that does not read as one, a date that does not read as one, or a code of a closed
  question outside its labelled values is rejected (file, row, column, reason); the rest of the row
  stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from samskab.common.reference import seed_rows, yes_words
from samskab.ingest.sources.common import LandingFileError, Pseudonymise, Reject, SourceBatch
from samskab.ingest.sources.municipalities import MUNICIPALITY, reference_resolver
from samskab.ingest.sources.survey.export import (
    CHOICE_TEXT,
    DATE,
    TEXT,
    SurveyExport,
    blank_to_null,
    canonical_numbers,
    canonical_timestamps,
    parse_timestamps,
)
from samskab.ingest.sources.survey.mapping import Mapping, find_mapping
from samskab.ingest.sources.survey.scrub import scrub

SOURCE = "survey"
OUTSIDE_MUNICIPALITIES = "outside_municipalities"
RESPONDENT_ID, IDENTIFIER, DROPPED = "respondent_id", "identifier", "dropped"
BACKGROUND, STATUS, TIMESTAMP, SYSTEM, ANSWER, OPEN_TEXT = (
    "background",
    "status",
    "timestamp",
    "system",
    "answer",
    "open_text",
)
COMPLETED, PARTIAL, DISTRIBUTED = 4, 3, 2
NOT_A_MOMENT = (
    "is not a date and time in a form the platform reads (an American m/d/y date whose day and month "
    "cannot be told apart, because every date of the column reads both ways, is not guessed)"
)


# Names an id variable has when neither the mapping entry nor the export's format names one (compared
# without case, spaces, hyphens or underscores). Such a variable is the respondent id only when every
# respondent has one and no two share it.
ID_LIKE_NAMES = frozenset(
    {
        "id",
        "respondentid",
        "respondent",
        "respid",
        "responseid",
        "caseid",
        "case",
        "casenumber",
        "lbnr",
        "løbenr",
        "løbenummer",
        "loebenr",
        "loebenummer",
        "lobenr",
        "idnr",
        "serial",
        "serialno",
        "serialnumber",
        "recordid",
        "participantid",
        "subjectid",
        "interviewid",
        "intnr",
        "pid",
    }
)
# The rule by which an export's respondents got their ids (raw.survey_exports.respondent_id_rule).
NUMBERED = "numbered in file order"


def _folded(name: str) -> str:
    return "".join(character for character in name.casefold() if character not in " -_.")


@dataclass
class Plan:
    """The role of every variable of one export."""

    respondent_id: str | None  # None: the export has no id variable; respondents are numbered in file order
    names: list[str]
    emails: list[str]
    timestamps: dict[str, str]  # raw column -> variable
    finished: str | None
    status: dict[str, int]  # variable -> the status it marks
    status_name: str | None
    municipality: str | None
    sector_area: str | None
    respondent_id_rule: str = ""
    roles: dict[str, str] = field(default_factory=dict)


def plan_roles(export: SurveyExport, mapping: Mapping | None) -> Plan:
    names = export.data.column_names
    present = set(names)
    conventions = export.conventions
    where = {"file": export.data_file, "sheet": export.data_sheet}

    def named(variable: str | None, what: str) -> str | None:
        if variable and variable not in present:
            raise LandingFileError(
                reason=f"has no variable {variable}, which the mapping entry (dbt_project/seeds/survey_exports.csv) "
                f"names as the {what}",
                **where,
            )
        return variable

    folded = {}
    for name in names:  # a format's variable names are matched without regard to case
        folded.setdefault(name.casefold(), name)

    def first(candidates: tuple[str, ...]) -> str | None:
        return next((folded[name.casefold()] for name in candidates if name.casefold() in folded), None)

    def every(candidates: tuple[str, ...]) -> list[str]:
        return [folded[name.casefold()] for name in candidates if name.casefold() in folded]

    respondent_id, id_rule = _respondent_id(export, mapping, named, first)
    name_variable = named(mapping and mapping.name_variable, "respondent's name")
    email_variable = named(mapping and mapping.email_variable, "respondent's e-mail")
    plan = Plan(
        respondent_id=respondent_id,
        names=[name_variable] if name_variable else every(conventions.names),
        emails=[email_variable] if email_variable else every(conventions.emails),
        timestamps={
            column: variable
            for column, variable in (
                ("created_at", first(conventions.created)),
                ("started_at", first(conventions.started)),
                ("closed_at", first(conventions.closed)),
                ("modified_at", first(conventions.modified)),
            )
            if variable
        },
        finished=first(conventions.finished),
        status={},
        status_name=None,
        municipality=named(mapping and mapping.municipality_variable, "municipality"),
        sector_area=named(mapping and mapping.sector_area_variable, "sector area"),
        respondent_id_rule=id_rule,
    )
    plan.status, plan.status_name = _status_block(export, mapping.status_variable if mapping else None)
    kinds = dict(zip(export.variables["variable_name"], export.variables["value_kind"], strict=True))
    questions = dict(zip(export.variables["variable_name"], export.variables["question_name"], strict=True))
    dropped, system = set(every(conventions.dropped)), set(every(tuple(conventions.system)))
    for name in names:
        if name == plan.respondent_id:
            role = RESPONDENT_ID
        elif name in plan.names or name in plan.emails:
            role = IDENTIFIER
        elif name in dropped:
            role = DROPPED
        elif name in (plan.municipality, plan.sector_area):
            role = BACKGROUND
        elif name in plan.status:
            role = STATUS
        elif name in plan.timestamps.values():
            role = TIMESTAMP
        elif name in system or name == plan.finished or str(questions.get(name) or "").startswith("stat"):
            role = SYSTEM
        elif kinds.get(name) == TEXT:
            role = OPEN_TEXT
        else:
            role = ANSWER
        plan.roles[name] = role
    return plan


def _respondent_id(export: SurveyExport, mapping: Mapping | None, named, first) -> tuple[str | None, str]:
    """The respondent id variable and the rule that found it: the mapping entry's, the format's own
    (ResponseId, responde, ...), or a variable named like an id whose values are all present and unique.
    None when there is none: the respondents are then numbered in file order."""
    chosen = named(mapping and mapping.respondent_id_variable, "respondent id")
    if chosen:
        return chosen, f"variable {chosen} (named in the mapping entry)"
    chosen = first(export.conventions.respondent_id)
    if chosen:
        return chosen, f"variable {chosen} ({export.format}'s respondent id)"
    for name in export.data.column_names:
        if _folded(name) in ID_LIKE_NAMES and _is_key(export.data.column(name)):
            return name, f"variable {name} (named like an id, every value present and unique)"
    return None, NUMBERED


def _is_key(values: pa.ChunkedArray) -> bool:
    cells = blank_to_null(values)
    return cells.null_count == 0 and len(cells) > 0 and len(pc.unique(cells)) == len(cells)


def _status_block(export: SurveyExport, question: str | None) -> tuple[dict[str, int], str | None]:
    """The 0/1 status variables and the status each marks, from the structure or the variable names."""
    conventions = export.conventions
    question = question or conventions.status_question
    variables = export.variables
    block = variables.loc[(variables["question_name"] == question) & variables["choice_value"].notna()]
    if question and len(block):
        return {row.variable_name: int(float(row.choice_value)) for row in block.itertuples()}, question
    if conventions.status_prefix:
        pattern = re.compile(rf"^{re.escape(conventions.status_prefix)}(\d+)$")
        found = {name: int(m.group(1)) for name in export.data.column_names if (m := pattern.match(name))}
        if found:
            return found, question or conventions.status_prefix.rstrip("_")
    return {}, None


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _constant(value: str, n: int) -> pa.DictionaryArray:
    """The same text in every row, stored once (an export id or a file name over millions of answers)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))


class _Rejects:
    def __init__(self, export: SurveyExport) -> None:
        self.export = export
        self.items: list[Reject] = list(export.rejects)

    def add(self, indexes: np.ndarray, column: str | None, reason: str) -> None:
        file, sheet, rows = str(self.export.data_file), self.export.data_sheet, self.export.rows
        self.items.extend(Reject(SOURCE, file, int(rows[index]), column, reason, sheet) for index in indexes)


def survey_batch(export: SurveyExport, export_id: str, pseudonymise: Pseudonymise) -> SourceBatch:
    """The raw survey tables of one export (named `export_id`), its rejected rows and cells, and notes."""
    mapping = find_mapping(export_id, export.survey_id)
    plan = plan_roles(export, mapping)
    data, n = export.data, export.data.num_rows
    rejects = _Rejects(export)
    notes = list(export.notes)

    if plan.respondent_id is None:
        ids = pd.Series([str(number) for number in range(1, n + 1)], dtype=object)
        keep = np.ones(n, dtype=bool)
        notes.append(
            f"{export_id} has no respondent id variable (none named in the mapping entry, none of its format's, "
            "none named like an id with a unique value in every row): its respondents are numbered 1, 2, ... in "
            "file order. A new version of this export replaces it whole; answers are never matched across "
            "versions by these numbers. To keep ids across versions, export it with the respondent id, or name "
            "the id variable in dbt_project/seeds/survey_exports.csv"
        )
    else:
        ids = _numbers_canonical(blank_to_null(data.column(plan.respondent_id)))
        keep = _check_ids(ids, plan.respondent_id, export, rejects)
    for name in data.column_names:
        has_nul = _mask(pc.match_substring(data.column(name), "\x00")) & keep
        if has_nul.any():
            rejects.add(np.flatnonzero(has_nul), name, "holds a NUL character (the export is damaged); row not loaded")
            keep &= ~has_nul

    respondents = pd.DataFrame({"export_id": export_id, "respondent_id": ids, "source_row": export.rows})
    for column, variable in plan.timestamps.items():
        parsed, invalid = parse_timestamps(blank_to_null(data.column(variable)))
        rejects.add(np.flatnonzero(invalid & keep), variable, NOT_A_MOMENT + " (the cell is left empty)")
        respondents[column] = parsed.where(~invalid)
    for column in ("created_at", "started_at", "closed_at", "modified_at"):
        if column not in respondents:
            respondents[column] = pd.NaT
    own_names = _joined(data, plan.names)  # pseudonymised here, and scrubbed from the respondent's open answers
    respondents["respondent_name_pseudonym"] = _pseudonyms(own_names, "name", pseudonymise)
    respondents["email_pseudonym"] = _pseudonyms(_joined(data, plan.emails), "email", pseudonymise)
    # The record's published key: the survey's respondent id, keyed, so marts never show the id itself.
    survey_key = export.survey_id or export_id
    respondents["respondent_pseudonym"] = _pseudonyms(
        pd.Series([None if pd.isna(value) else f"{survey_key}/{value}" for value in ids], dtype=object),
        "respondent",
        pseudonymise,
    )
    keep &= _status(respondents, data, plan, rejects, keep)
    respondents["wave_id"] = mapping.wave_id if mapping else None
    quarantine = pd.DataFrame(columns=["respondent_id", "variable_name", "value_text", "source_row"])
    if mapping:
        keep, quarantine = _background(respondents, data, export, plan, rejects, keep, notes)
    else:
        respondents["municipality_code"] = pd.array([None] * n, dtype="Int64")
        respondents["sector_area_code"] = pd.array([None] * n, dtype="Int64")
        respondents["area_level"] = None
        notes.append(
            f"{export_id} is a questionnaire the platform has no mapping entry for: it is loaded into raw in full "
            "(answers and codebook) and reported as unmapped, but stays out of the marts until an entry in "
            "dbt_project/seeds/survey_exports.csv names its wave, municipality and sector-area variables"
        )
    dropped = [name for name, role in plan.roles.items() if role == DROPPED]
    if dropped:
        notes.append(f"identifying columns not stored: {', '.join(dropped)}")

    answers = _answers(export, plan, ids, keep, rejects)
    open_answers = _open_answers(export, plan, ids, keep, own_names)
    file = str(export.data_file)
    respondents = respondents.loc[keep].reset_index(drop=True)
    respondents["source_file"] = file
    quarantine["export_id"], quarantine["source_file"] = export_id, file
    batch = SourceBatch(source=SOURCE, files=export.files, rejects=rejects.items, notes=notes)
    batch.tables = {
        "survey_exports": _export_row(export, export_id, mapping, plan, len(respondents), answers.num_rows),
        "survey_respondents": respondents,
        "survey_answers": _with_constants(answers, export_id, file),
        "survey_open_answers": open_answers.assign(export_id=export_id, source_file=file),
        "survey_variables": _variables(export, plan, export_id),
        "survey_value_labels": _value_labels(export, export_id),
        "survey_unresolved_municipalities": quarantine,
    }
    return batch


def _numbers_canonical(values: pa.Array) -> pd.Series:
    """Numbers in canonical form ("825478429" from 825478429.0, "101" from "101,0"); any other text as is."""
    text, _, invalid = canonical_numbers(values)
    mixed = pc.if_else(pa.array(invalid), values, text) if invalid.any() else text
    return pd.Series(mixed.to_numpy(zero_copy_only=False), dtype=object)


def _check_ids(ids: pd.Series, variable: str, export: SurveyExport, rejects: _Rejects) -> np.ndarray:
    missing = ids.isna().to_numpy()
    rejects.add(np.flatnonzero(missing), variable, "has no respondent id; row not loaded")
    repeated = ids.duplicated(keep="first").to_numpy() & ~missing
    if repeated.any():
        first_rows = {value: export.rows[index] for index, value in ids[~missing].drop_duplicates().items()}
        for index in np.flatnonzero(repeated):
            rejects.add(
                np.array([index]),
                variable,
                f"repeats the respondent id of row {first_rows[ids[index]]}; the first is kept, this row is not loaded",
            )
    return ~missing & ~repeated


def _text(data: pa.Table, name: str) -> pd.Series:
    """A column's cells as Python text, None for blank."""
    return pd.Series(blank_to_null(data.column(name)).to_numpy(zero_copy_only=False), dtype=object)


def _joined(data: pa.Table, variables: list[str]) -> pd.Series:
    """The cells of several columns joined with a space per row (first and last name); None when all blank."""
    if not variables:
        return pd.Series([None] * data.num_rows, dtype=object)
    joined = _text(data, variables[0]).fillna("")
    for name in variables[1:]:
        joined = joined.str.cat(_text(data, name).fillna(""), sep=" ")
    return joined.str.strip().replace("", None)


def _pseudonyms(joined: pd.Series, kind: str, pseudonymise: Pseudonymise) -> pd.Series:
    unique = {value: pseudonymise(kind, value) for value in joined.dropna().unique()}
    return joined.map(unique).astype(object).where(joined.notna(), None)


def _status(respondents: pd.DataFrame, data: pa.Table, plan: Plan, rejects: _Rejects, keep: np.ndarray) -> np.ndarray:
    """Sets status_code and status_rule; returns which rows have a readable status."""
    n = data.num_rows
    if plan.status:
        marked = np.zeros(n, dtype=np.int64)
        code = np.zeros(n, dtype=np.int64)
        for variable, status in plan.status.items():
            is_one = _mask(pc.equal(blank_to_null(data.column(variable)), "1"))
            marked += is_one
            code = np.where(is_one, status, code)
        wrong = (marked != 1) & keep
        for index in np.flatnonzero(wrong):
            rejects.add(
                np.array([index]),
                plan.status_name,
                f"marks {marked[index]} statuses; exactly one of its status variables must be 1; row not loaded",
            )
        respondents["status_code"] = pd.Series(code).where(marked == 1).astype("Int64")
        respondents["status_rule"] = f"status variables ({plan.status_name})"
        return ~wrong
    answered = np.zeros(n, dtype=bool)
    for name, role in plan.roles.items():
        if role == ANSWER:
            answered |= _mask(pc.is_valid(blank_to_null(data.column(name))))
    finished = respondents["closed_at"].notna().to_numpy()
    if plan.finished:
        # Qualtrics writes 1 with numeric values, True with choice text; Excel re-saves it as TRUE.
        flags = pc.utf8_lower(blank_to_null(data.column(plan.finished)))
        finished = _mask(pc.is_in(flags, value_set=pa.array(yes_words())))
    derived = np.where(finished, COMPLETED, np.where(answered, PARTIAL, DISTRIBUTED))
    respondents["status_code"] = pd.array(derived, dtype="Int64")
    respondents["status_rule"] = "derived: completed if finished, partial if any answer, else distributed"
    return np.ones(n, dtype=bool)


def _background(
    respondents: pd.DataFrame,
    data: pa.Table,
    export: SurveyExport,
    plan: Plan,
    rejects: _Rejects,
    keep: np.ndarray,
    notes: list[str],
) -> tuple[np.ndarray, pd.DataFrame]:
    """Municipality and sector area of a mapped export; unresolved municipalities are quarantined."""
    variable = plan.municipality
    values = _text(data, variable)
    keys = _numbers_canonical(pa.array(values, pa.string()))
    labels = export.labels.loc[export.labels["variable_name"] == variable].set_index("value")["label"].to_dict()
    resolver = reference_resolver()
    areas = {key: resolver.resolve(labels.get(key, key)) for key in keys.dropna().unique()}
    level = keys.map(lambda key: areas[key].level if key in areas else None)
    code = keys.map(lambda key: areas[key].code if key in areas else None)
    empty = keys.isna().to_numpy() & keep
    rejects.add(np.flatnonzero(empty), variable, "is empty; a mapped export needs every respondent's municipality")
    unresolved = (~level.isin([MUNICIPALITY, OUTSIDE_MUNICIPALITIES])).to_numpy() & ~empty & keep
    rejects.add(
        np.flatnonzero(unresolved),
        variable,
        "does not name one municipality with certainty; the row is held in raw.survey_unresolved_municipalities "
        "for review and not loaded",
    )
    quarantine = pd.DataFrame(
        {
            "respondent_id": respondents["respondent_id"][unresolved],
            "variable_name": variable,
            "value_text": values[unresolved],
            "source_row": respondents["source_row"][unresolved],
        }
    )
    outside = (level == OUTSIDE_MUNICIPALITIES).to_numpy() & keep
    if outside.any():
        notes.append(
            f"{int(outside.sum())} respondents name Christiansø, which belongs to no municipality: kept in raw, "
            "left out of the marts"
        )
    respondents["municipality_code"] = pd.array(code.where(level.notna(), None), dtype="Int64")
    respondents["area_level"] = level
    sectors = _text(data, plan.sector_area)
    sector_numbers = pd.to_numeric(sectors, errors="coerce")
    whole = sector_numbers.notna() & (sector_numbers == sector_numbers.round())
    no_sector = (~whole).to_numpy() & keep & ~empty & ~unresolved
    rejects.add(
        np.flatnonzero(no_sector),
        plan.sector_area,
        "is not a sector-area code (a whole number); a mapped export needs every respondent's sector area",
    )
    respondents["sector_area_code"] = pd.array(sector_numbers.where(whole), dtype="Int64")
    return keep & ~empty & ~unresolved & ~no_sector, quarantine


def _answers(export: SurveyExport, plan: Plan, ids: pd.Series, keep: np.ndarray, rejects: _Rejects) -> pa.Table:
    """Every non-blank answer of every kept respondent, one row per respondent and variable."""
    kinds = dict(zip(export.variables["variable_name"], export.variables["value_kind"], strict=True))
    closed = set(export.variables.loc[export.variables["is_closed"].astype(bool), "variable_name"])
    label_sets = export.labels.groupby("variable_name")["value"].agg(lambda values: pa.array(list(values), pa.string()))
    id_array = pa.array(ids, pa.string())
    row_array = pa.array(export.rows, pa.int32())
    keep_array = pa.array(keep)
    parts = []
    for name, role in plan.roles.items():
        if role in (RESPONDENT_ID, IDENTIFIER, DROPPED, OPEN_TEXT):
            continue
        values = blank_to_null(export.data.column(name))
        if kinds.get(name) == DATE:
            text, invalid = canonical_timestamps(values)
            numbers = pa.nulls(len(text), pa.float64())
            reason = NOT_A_MOMENT + "; the answer is not loaded"
        elif kinds.get(name) in (TEXT, CHOICE_TEXT):  # answers in words, or a system variable (a language)
            text, numbers, invalid = values, pa.nulls(len(values), pa.float64()), np.zeros(len(values), dtype=bool)
            reason = ""
        elif role == BACKGROUND:  # a municipality may be written as a name; it was judged above, row by row
            text = pa.array(_numbers_canonical(values), pa.string())
            _, numbers, _ = canonical_numbers(values)  # null where the value is a name
            invalid, reason = np.zeros(len(values), dtype=bool), ""
        else:
            text, numbers, invalid = canonical_numbers(values)
            reason = "is not a number; the answer is not loaded"
            if name in export.declared_missing:  # Stata's .a-.z: declared missing, an answer with no number
                invalid &= ~_mask(pc.is_in(values, value_set=pa.array(sorted(export.declared_missing[name]))))
                text = pc.if_else(pa.array(invalid | ~_mask(pc.is_valid(numbers))), values, text)
        invalid &= keep
        if role != TIMESTAMP:  # a respondent's time that does not read was rejected once already, above
            rejects.add(np.flatnonzero(invalid), name, reason)
        usable = pc.and_(pc.and_(pc.is_valid(text), keep_array), pa.array(~invalid))
        if name in closed and name in label_sets.index and role != BACKGROUND:
            outside = _mask(pc.and_(usable, pc.invert(pc.is_in(text, value_set=label_sets[name]))))
            if outside.any():
                rejects.add(
                    np.flatnonzero(outside),
                    name,
                    "is not one of the variable's labelled values; the answer is not loaded",
                )
                usable = pc.and_(usable, pa.array(~outside))
        k = pc.sum(usable).as_py() or 0
        if k == 0:
            continue
        parts.append(
            pa.table(
                {
                    "respondent_id": pc.filter(id_array, usable),
                    "variable_name": pa.repeat(pa.scalar(name, pa.string()), k),
                    "answer_value": pc.filter(text, usable),
                    "answer_number": pc.filter(numbers, usable),
                    "source_row": pc.filter(row_array, usable),
                }
            )
        )
    if not parts:
        return pa.table(
            {
                "respondent_id": pa.array([], pa.string()),
                "variable_name": pa.array([], pa.string()),
                "answer_value": pa.array([], pa.string()),
                "answer_number": pa.array([], pa.float64()),
                "source_row": pa.array([], pa.int32()),
            }
        )
    return pa.concat_tables(parts)


def _with_constants(table: pa.Table, export_id: str, file: str) -> pa.Table:
    n = table.num_rows
    return table.append_column("export_id", _constant(export_id, n)).append_column("source_file", _constant(file, n))


def _open_answers(
    export: SurveyExport, plan: Plan, ids: pd.Series, keep: np.ndarray, own_names: pd.Series
) -> pd.DataFrame:
    frames = []
    for name, role in plan.roles.items():
        if role != OPEN_TEXT:
            continue
        texts = _text(export.data, name)
        present = texts.notna().to_numpy() & keep
        if not present.any():
            continue
        scrubbed, counts = scrub(texts[present], own_names[present])
        frames.append(
            pd.DataFrame(
                {
                    "respondent_id": ids[present],
                    "variable_name": name,
                    "answer_text": scrubbed,
                    "n_redactions": counts,
                    "source_row": export.rows[present],
                }
            )
        )
    columns = ["respondent_id", "variable_name", "answer_text", "n_redactions", "source_row"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _variables(export: SurveyExport, plan: Plan, export_id: str) -> pd.DataFrame:
    frame = export.variables.copy()
    frame["role"] = frame["variable_name"].map(plan.roles)
    frame["export_id"] = export_id
    frame["choice_value"] = frame["choice_value"].astype(object)
    frame["source_row"] = pd.array(frame["source_row"], dtype="Int64")
    return frame


def _special_labels() -> dict[str, str]:
    return {_fold(row["answer_label"]): row["kind"] for row in seed_rows("special_answer_labels")}


def _fold(label: str) -> str:
    return " ".join(str(label).casefold().replace("’", "'").split())


def _value_labels(export: SurveyExport, export_id: str) -> pd.DataFrame:
    frame = export.labels.copy()
    special = _special_labels()
    kinds = frame["label"].map(lambda label: special.get(_fold(label)) if isinstance(label, str) else None)
    frame["is_dont_know"] = kinds.eq("dont_know")
    frame["is_not_applicable"] = kinds.eq("not_applicable")
    frame["is_no_answer"] = kinds.eq("no_answer")
    frame["is_declared_missing"] = frame["is_declared_missing"].astype(bool)
    frame["export_id"] = export_id
    frame["source_row"] = pd.array(frame["source_row"], dtype="Int64")
    return frame


def _export_row(
    export: SurveyExport, export_id: str, mapping: Mapping | None, plan: Plan, n_respondents: int, n_answers: int
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "export_id": export_id,
                "format": export.format,
                "shape": export.shape,
                "title": export.title,
                "survey_id": export.survey_id,
                "wave_id": mapping.wave_id if mapping else None,
                "questionnaire": mapping.questionnaire if mapping else None,
                "mapping_entry": mapping.entry if mapping else None,
                "matched_by": mapping.matched_by if mapping else None,
                "respondent_id_rule": plan.respondent_id_rule,
                "n_respondents": n_respondents,
                "n_variables": export.data.num_columns,
                "n_answers": n_answers,
                "status_rule": f"status variables ({plan.status_name})" if plan.status else "derived",
                "source_file": str(export.data_file),
                "source_row": None,
            }
        ]
    )
