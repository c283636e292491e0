"""Statistics Denmark's classification downloads (dst.dk, "Klassifikationer"), as served.

A download goes into `landing/classifications/` as the CSV file Statistics Denmark serves: a header
`SEKVENS;KODE;NIVEAU;TITEL;GENERELLE_NOTER;INKLUDERER;INKLUDERER_OGSÅ;EKSKLUDERER;...` (or its English
form `SEQUENCE;CODE;LEVEL;TITLE;...`), one line per category, the hierarchy given by the order of the
lines alone: a category's parent is the nearest line above it one level up. Codes stay text ("031000"
keeps its zero). The classification is named by the file (`disco08_da.csv` -> `disco08_da`).

Every line lands in `raw.classification_codes` with its parent; a line whose sequence or level is not a
whole number, or whose level has no parent above it, is rejected with its row and column. Any further
columns (notes, what a category includes and excludes) are kept as they are, in one JSON column.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from samskab.ingest.landing import Delivery, Finding, Inventory, not_recognised, real_entries
from samskab.ingest.sources.common import (
    LandingFileError,
    Pseudonymise,
    RawTable,
    Reject,
    Source,
    SourceBatch,
    require_file,
)
from samskab.ingest.sources.text_files import parse_records, read_text, sniff_delimiter

SOURCE = "classifications"
FORMAT = "dst-classification-csv"
# The first four columns, in Danish and in English downloads.
HEADERS = (("SEKVENS", "KODE", "NIVEAU", "TITEL"), ("SEQUENCE", "CODE", "LEVEL", "TITLE"))

CODES = RawTable(
    "classification_codes",
    (
        ("classification", "varchar not null"),
        ("sequence_number", "integer"),
        ("code", "varchar"),
        ("level", "integer"),
        ("title", "varchar"),
        ("parent_code", "varchar"),
        ("details", "varchar"),
    ),
)


def discover(folder: Path, inventory: Inventory) -> tuple[list[Delivery], list[Finding]]:
    """Each .csv file directly in classifications/ is one download; anything else is named."""
    deliveries, findings = [], []
    for entry in real_entries(folder):
        path = Path(entry.path)
        if entry.is_file() and path.suffix.casefold() == ".csv":
            deliveries.append(Delivery(SOURCE, inventory.relative(path), path, (path,), FORMAT))
        else:
            reason = "is not a classification download (a .csv file from Statistics Denmark's classifications)"
            findings += not_recognised(path, inventory, reason)
    return deliveries, findings


def classification_of(path: Path) -> str:
    return path.stem


def read(delivery: Delivery, pseudonymise: Pseudonymise) -> SourceBatch:
    path = delivery.path
    require_file(path, "the classification download")
    decoded = read_text(path)
    delimiter = sniff_delimiter(decoded.text, (";", ",", "\t"))
    parsed = parse_records(decoded.text, path, delimiter=delimiter, header=True)
    header = [name.strip().upper() for name in parsed.header or []]
    if tuple(header[:4]) not in HEADERS:
        raise LandingFileError(
            path,
            "row 1 is not the header of a Statistics Denmark classification download "
            f"({';'.join(HEADERS[0])};... or {';'.join(HEADERS[1])};...); download it again as CSV",
            row=1,
        )
    rejects = [
        Reject(SOURCE, str(path), row, None, f"has {found} fields; the header has {expected}")
        for row, expected, found in parsed.bad_rows
    ]
    columns = {name: parsed.table.column(index).to_pylist() for index, name in enumerate(header)}
    extra = header[4:]
    rows, ancestors = [], {}  # level -> the code of the latest line at that level
    sequence_name, code_name, level_name, title_name = header[:4]
    for index, number in enumerate(parsed.rows.tolist()):
        sequence, level = columns[sequence_name][index], columns[level_name][index]
        sequence_number, level_number = _whole(sequence), _whole(level)
        if sequence_number is None:
            rejects.append(Reject(SOURCE, str(path), number, sequence_name, "is not a whole number"))
            continue
        if level_number is None or level_number < 1:
            rejects.append(Reject(SOURCE, str(path), number, level_name, "is not a level (a whole number from 1)"))
            continue
        if level_number > 1 and level_number - 1 not in ancestors:
            rejects.append(
                Reject(SOURCE, str(path), number, level_name, "has no line one level up above it to belong to")
            )
            continue
        code = (columns[code_name][index] or "").strip() or None
        ancestors = {depth: value for depth, value in ancestors.items() if depth < level_number}
        ancestors[level_number] = code
        details = {name: columns[name][index] for name in extra if columns[name][index] not in (None, "")}
        rows.append(
            {
                "classification": classification_of(path),
                "sequence_number": sequence_number,
                "code": code,
                "level": level_number,
                "title": (columns[title_name][index] or "").strip() or None,
                "parent_code": ancestors.get(level_number - 1),
                "details": json.dumps(details, ensure_ascii=False, sort_keys=True) if details else None,
                "source_file": str(path),
                "source_row": number,
            }
        )
    if not rows and not rejects:
        raise LandingFileError(path, "holds a header but no categories; download it again")
    batch = SourceBatch(source=SOURCE, files=[path], rejects=rejects)
    batch.tables[CODES.name] = pd.DataFrame(rows, columns=[*CODES.column_names, "source_file", "source_row"])
    return batch


def _whole(text: str | None) -> int | None:
    """A whole number written with the digits 0-9 (str.isdigit also takes "²" and other scripts' digits,
    which int() does not read), or None."""
    stripped = (text or "").strip()
    return int(stripped) if re.fullmatch(r"[0-9]{1,9}", stripped) else None


CLASSIFICATIONS = Source(
    name=SOURCE,
    folder=SOURCE,
    description="Statistics Denmark classification downloads (DISCO-08, municipality groups, countries, ...)",
    discover=discover,
    read=read,
    tables=(CODES,),
    suites=("raw_classification_codes",),
    personal_data=(),  # public code lists, no person
)
