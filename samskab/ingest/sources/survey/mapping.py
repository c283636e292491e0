"""Which questionnaire an export is, and where its background and status variables are: data, not code.

Each row of the seed `dbt_project/seeds/survey_exports.csv` is a mapping entry. An export matches the
first entry whose `match_delivery` pattern matches its name in survey/ (a folder or file name, `*` and
`?` as wildcards, case ignored) or whose `match_survey_id` equals its SurveyXact survey id. The entry
names the wave and the variables holding the municipality, the sector area and (optionally) the status,
the respondent id, name and e-mail; a blank cell means the export format's own convention. An export
that matches no entry is loaded into raw in full, reported as unmapped, and stays out of the marts.

How an export matched is kept with it: by its exact name (an entry without wildcards names that one
export), by a pattern, or by its survey id. Only exports the mapping names exactly may share a wave with
other exports that hold the same heads; see `samskab.ingest.sources.survey.waves`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from samskab.common.reference import seed_rows

SEED = "survey_exports"


@dataclass(frozen=True)
class Mapping:
    wave_id: str
    questionnaire: str
    municipality_variable: str
    sector_area_variable: str
    status_variable: str | None
    respondent_id_variable: str | None
    name_variable: str | None
    email_variable: str | None
    entry: str = ""  # the entry's match_delivery pattern, or "survey id <id>"
    matched_by: str = ""  # NAME, PATTERN or SURVEY_ID


NAME, PATTERN, SURVEY_ID = "name", "pattern", "survey id"
WILDCARDS = frozenset("*?[")


def find_mapping(export_name: str, survey_id: str | None) -> Mapping | None:
    """The mapping entry of an export, or None when the platform does not know its questionnaire."""
    for row in seed_rows(SEED):
        pattern, wanted_id = row["match_delivery"].strip(), row["match_survey_id"].strip()
        by_name = bool(pattern) and fnmatch.fnmatch(export_name.casefold(), pattern.casefold())
        by_id = bool(wanted_id) and survey_id is not None and wanted_id == survey_id
        if by_name or by_id:
            matched_by = (PATTERN if WILDCARDS & set(pattern) else NAME) if by_name else SURVEY_ID
            return Mapping(
                entry=pattern if by_name else f"survey id {wanted_id}",
                matched_by=matched_by,
                wave_id=row["wave_id"].strip(),
                questionnaire=row["questionnaire"].strip(),
                municipality_variable=row["municipality_variable"].strip(),
                sector_area_variable=row["sector_area_variable"].strip(),
                status_variable=row["status_variable"].strip() or None,
                respondent_id_variable=row["respondent_id_variable"].strip() or None,
                name_variable=row["name_variable"].strip() or None,
                email_variable=row["email_variable"].strip() or None,
            )
    return None
