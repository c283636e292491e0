"""Read a Statistics Denmark Statbank CSV extract of population by area and quarter (FOLK1A).

The Statbank API serves CSV in UTF-8 with a byte-order mark, CRLF line ends and semicolons, and writes
labels rather than codes ("København", "Region Hovedstaden", "Hele landet"). Labels are resolved to
the official codes here from the reference seeds; Christiansø and the whole country are kept apart as
their own area levels, and a label that names no known area is rejected with its line number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from flows.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from flows.sources.common import (
    LandingFileError,
    Pseudonymise,
    RawTable,
    Reject,
    RowError,
    Source,
    SourceBatch,
    parse_int,
    require_file,
)
from flows.sources.municipalities import UNRESOLVED, MunicipalityResolver, reference_resolver

SOURCE = "statbank"
EXPECTED_HEADER = ["OMRÅDE", "TID", "INDHOLD"]
QUARTER = re.compile(r"^\d{4}K[1-4]$")


def read_statbank_population(path: Path, resolver: MunicipalityResolver) -> SourceBatch:
    """Read one FOLK1A extract. Returns the raw table statbank_population and rejected rows."""
    batch = SourceBatch(source=SOURCE, files=[path])
    require_file(path, "a Statbank CSV extract")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(
            path, f"is not UTF-8 (at byte {error.start}); download the table again from Statbank as CSV"
        ) from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0].split(";") != EXPECTED_HEADER:
        raise LandingFileError(
            path,
            f"the header (row 1) should read {';'.join(EXPECTED_HEADER)} (population by area and quarter); "
            "request FOLK1A with OMRÅDE and TID only, every other variable eliminated",
            row=1,
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
                raise RowError("TID", "is not a quarter like 2016K4")
            if value == "..":
                raise RowError("INDHOLD", "Statbank has no value ('..') for this area and quarter")
            population = parse_int("INDHOLD", value, required=True)
            area = resolver.resolve(label)
            if area.level == UNRESOLVED:
                raise RowError("OMRÅDE", "is not one of the 98 municipalities, a region or another known area")
            level, code = area.level, area.code if area.is_municipality else None
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


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """Every `.csv` file in statbank/ is one extract; anything else is not recognised."""
    deliveries, findings = [], []
    for entry in real_entries(folder):
        path = Path(entry.path)
        if entry.is_file() and path.suffix.casefold() == ".csv":
            deliveries.append(Delivery(SOURCE, inventory.relative(path), path, (path,), "statbank-csv"))
        else:
            findings += not_recognised(
                path, inventory, "is not a Statbank CSV extract (statbank/<TABLE>_<anything>.csv)"
            )
    return deliveries, findings


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    return read_statbank_population(delivery.path, reference_resolver())


STATBANK = Source(
    name=SOURCE,
    folder="statbank",
    description="Statistics Denmark Statbank extracts: population by area and quarter (FOLK1A)",
    discover=discover,
    read=read,
    tables=(
        RawTable(
            "statbank_population",
            (
                ("table_id", "varchar"),
                ("area_label", "varchar"),
                ("municipality_code", "integer"),
                ("area_level", "varchar"),
                ("quarter", "varchar"),
                ("population", "bigint"),
            ),
        ),
    ),
    suites=("raw_statbank_population",),
    reading_seeds=(
        "municipalities",
        "municipality_name_variants",
        "other_areas",
    ),
)
