"""Read a Statistics Denmark Statbank CSV extract of population by area and quarter (FOLK1A).

The Statbank API serves CSV in UTF-8 with a byte-order mark, CRLF line ends and semicolons, and writes
labels rather than codes ("København", "Region Hovedstaden", "Hele landet"). Labels are matched to the
official municipality codes here; a label that is no municipality, region or the whole country is
rejected with its line number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from flows.sources.common import LandingFileError, Reject, RowError, SourceBatch, normalise_place_name, parse_int

SOURCE = "statbank"
EXPECTED_HEADER = ["OMRÅDE", "TID", "INDHOLD"]
QUARTER = re.compile(r"^\d{4}K[1-4]$")
COUNTRY_LABELS = {"hele landet", "all denmark"}


class MunicipalityMatcher:
    """Matches the spellings of a municipality's name to its official code."""

    def __init__(self, municipalities: pd.DataFrame) -> None:
        self._codes = {
            normalise_place_name(name): int(code)
            for code, name in zip(municipalities["kommunekode"], municipalities["navn"], strict=True)
        }
        self._regions = {normalise_place_name(name) for name in municipalities["regionsnavn"]}

    def code_of(self, label: str) -> int | None:
        key = normalise_place_name(label)
        for candidate in (key, key.removesuffix("s"), key + "s"):
            if candidate in self._codes:
                return self._codes[candidate]
        return None

    def is_region(self, label: str) -> bool:
        return normalise_place_name(label) in self._regions


def read_statbank_population(path: Path, matcher: MunicipalityMatcher) -> SourceBatch:
    """Read one FOLK1A extract. Returns the raw table statbank_population and rejected rows."""
    batch = SourceBatch(source=SOURCE, files=[path])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(
            f"{path}: not UTF-8 ({error.reason} at byte {error.start}); download the table again from Statbank as CSV."
        ) from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0].split(";") != EXPECTED_HEADER:
        raise LandingFileError(
            f"{path}: line 1 should read {';'.join(EXPECTED_HEADER)} (population by area and quarter); "
            "request FOLK1A with OMRÅDE and TID only, every other variable eliminated."
        )
    table_id = path.stem.split("_")[0].upper()
    rows = []
    for line_number, line in enumerate(lines[1:], start=2):
        fields = line.split(";")
        if len(fields) != 3:
            batch.rejects.append(Reject(SOURCE, str(path), line_number, None, f"has {len(fields)} fields; expected 3"))
            continue
        label, quarter, value = (field.strip() for field in fields)
        try:
            if not QUARTER.match(quarter):
                raise RowError("TID", f"'{quarter[:12]}' is not a quarter like 2016K4")
            if value == "..":
                raise RowError("INDHOLD", "Statbank has no value ('..') for this area and quarter")
            population = parse_int("INDHOLD", value, required=True)
            if label.casefold() in COUNTRY_LABELS:
                level, code = "country", None
            elif matcher.is_region(label):
                level, code = "region", None
            else:
                level, code = "municipality", matcher.code_of(label)
                if code is None:
                    raise RowError(
                        "OMRÅDE", f"'{label[:40]}' is not one of the 98 municipalities, a region or 'Hele landet'"
                    )
        except RowError as error:
            batch.rejects.append(Reject(SOURCE, str(path), line_number, error.column, error.reason))
            continue
        rows.append(
            {
                "table_id": table_id,
                "area_label": label,
                "municipality_code": code,
                "area_level": level,
                "quarter": quarter,
                "population": population,
                "source_file": str(path),
                "source_row": line_number,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "table_id",
            "area_label",
            "municipality_code",
            "area_level",
            "quarter",
            "population",
            "source_file",
            "source_row",
        ],
    )
    frame["municipality_code"] = frame["municipality_code"].astype("Int64")
    batch.tables["statbank_population"] = frame
    return batch
