"""The embedded sample's Statbank: recorded answers of the API for the tables the study declares.

The sample stands for the outside world, and Statistics Denmark's API is part of it. These recordings
are what `make demo` and the tests fetch through the connector, served on 127.0.0.1 by the replay
server (`statbank_replay`), so no run needs the network. They are written in the shapes the API
serves: a `tableinfo` answer in JSON (variables with every value's code and label, the area variable
marked with its map) and a `data` answer in CSV (UTF-8 with BOM, CRLF, `;`, decimal comma).

The figures are synthetic, not Statistics Denmark's: FOLK1A population per quarter by area and sex,
grown from each municipality's 2021K1 population in the reference list; ARE207 area per year by area,
drawn within 1 % of each municipality's real area (`municipality_areas.csv`, measured on DAGI's
boundaries: its provenance is in `municipality_areas.md`), so the country adds up to about Denmark's
42,951 km² and densities are those of the real municipalities; Christiansø's area is given as '..'
(no figure), as Statbank writes a missing figure.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path
from typing import Any

from samskab.common.reference import seed_rows
from samskab.ingest.statbank_api import CSV, TableRequest, declared_tables
from samskab.ingest.statbank_replay import record_interaction

FIRST_YEAR, LAST_YEAR = 2015, 2020
CHRISTIANSOE = ("411", "Christiansø")
SEXES = (("TOT", "I alt"), ("1", "Mænd"), ("2", "Kvinder"))
STATBANK_REGION_ORDER = ["1084", "1085", "1083", "1082", "1081"]  # DAGI codes, in Statbank's order
JSON_TYPE = "text/json; charset=utf-8"
REAL_AREAS = Path(__file__).with_name("municipality_areas.csv")
CSV_TYPE = "text/csv; charset=utf-8"


def _areas(municipalities: list[dict[str, str]], with_landsdele: bool) -> list[tuple[str, str]]:
    """The OMRÅDE values in Statbank's order: the country, each region with its (landsdele and)
    municipalities, then Christiansø."""
    areas = [("000", "Hele landet")]
    regions: dict[str, list[dict[str, str]]] = {}
    for municipality in municipalities:
        regions.setdefault(municipality["regionskode"], []).append(municipality)
    for region_code in sorted(regions, key=STATBANK_REGION_ORDER.index):  # Hovedstaden first, as Statbank lists them
        members = regions[region_code]
        areas.append((f"{int(region_code) - 1000:03d}", members[0]["regionsnavn"]))
        if with_landsdele:
            for landsdel in sorted({int(member["landsdel_kode"]) for member in members}):
                name = next(m["landsdel_navn"] for m in members if int(m["landsdel_kode"]) == landsdel)
                areas.append((f"{landsdel:02d}", f"Landsdel {name}"))
        areas += [(f"{int(member['kommunekode']):03d}", member["navn"]) for member in members]
    areas.append(CHRISTIANSOE)
    return areas


def _variable(
    variable_id: str, text: str, values: list[tuple[str, str]], *, time: bool = False, area: bool = False
) -> dict[str, Any]:
    variable: dict[str, Any] = {"id": variable_id, "text": text, "elimination": not time, "time": time}
    if area:
        variable["map"] = "denmark_municipality_07"
    variable["values"] = [{"id": code, "text": label} for code, label in values]
    return variable


def _tableinfo(table_id: str, text: str, unit: str, variables: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": table_id,
        "text": text,
        "description": f"{text} (the embedded sample's synthetic recording)",
        "unit": unit,
        "suppressedDataValue": "0",
        "updated": f"{LAST_YEAR + 1}-02-11T08:00:00",
        "active": True,
        "contacts": [],
        "documentation": None,
        "footnote": None,
        "variables": variables,
    }


def folk1a_tableinfo(municipalities: list[dict[str, str]]) -> dict[str, Any]:
    """FOLK1A's tableinfo as the sample's Statbank describes it (quarters 2015K1-2020K4)."""
    quarters = [f"{year}K{quarter}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for quarter in range(1, 5)]
    return _tableinfo(
        "FOLK1A",
        "Folketal den 1. i kvartalet",
        "Antal",
        [
            _variable("OMRÅDE", "område", _areas(municipalities, with_landsdele=False), area=True),
            _variable("KØN", "køn", list(SEXES)),
            _variable("ALDER", "alder", [("IALT", "Alder i alt"), *((str(age), f"{age} år") for age in range(126))]),
            _variable(
                "CIVILSTAND",
                "civilstand",
                [("TOT", "I alt"), ("U", "Ugift"), ("G", "Gift/separeret"), ("E", "Enke/enkemand"), ("F", "Fraskilt")],
            ),
            _variable("Tid", "tid", [(quarter, quarter) for quarter in quarters], time=True),
        ],
    )


def are207_tableinfo(municipalities: list[dict[str, str]]) -> dict[str, Any]:
    """ARE207's tableinfo as the sample's Statbank describes it (1 January 2015-2020)."""
    years = [str(year) for year in range(FIRST_YEAR, LAST_YEAR + 1)]
    return _tableinfo(
        "ARE207",
        "Areal 1. januar",
        "km2",
        [
            _variable("OMRÅDE", "område", _areas(municipalities, with_landsdele=True), area=True),
            _variable("Tid", "tid", [(year, year) for year in years], time=True),
        ],
    )


def _folk1a_figures(rng: random.Random, municipalities: list[dict[str, str]]) -> dict[tuple[str, str, str], str]:
    """(area, sex, quarter) -> figure; regions and the country add up their municipalities exactly."""
    quarters = [f"{year}K{quarter}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for quarter in range(1, 5)]
    figures: dict[tuple[str, str, str], int] = {}
    for municipality in municipalities:
        code = f"{int(municipality['kommunekode']):03d}"
        region = f"{int(municipality['regionskode']) - 1000:03d}"
        level = int(municipality["folketal"]) * rng.uniform(0.93, 0.97)
        men_share = rng.uniform(0.48, 0.51)
        for quarter in quarters:
            level *= rng.uniform(0.999, 1.004)
            men = round(level * men_share)
            women = round(level) - men
            for area in (code, region, "000"):
                for sex, value in (("TOT", men + women), ("1", men), ("2", women)):
                    figures[area, sex, quarter] = figures.get((area, sex, quarter), 0) + value
    for index, quarter in enumerate(quarters):
        men, women = 40 + index % 3, 45 + index % 2
        for area in (CHRISTIANSOE[0], "000"):
            for sex, value in (("TOT", men + women), ("1", men), ("2", women)):
                figures[area, sex, quarter] = figures.get((area, sex, quarter), 0) + value
    return {key: str(value) for key, value in figures.items()}


def real_areas() -> dict[str, float]:
    """Municipality code -> its real area in km², as measured on DAGI's boundaries (municipality_areas.md)."""
    with REAL_AREAS.open(encoding="utf-8", newline="") as handle:
        return {f"{int(row['kommunekode']):03d}": float(row["area_km2"]) for row in csv.DictReader(handle)}


def _are207_figures(rng: random.Random, municipalities: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    """(area, year) -> figure in km² with a decimal comma; Christiansø has none ('..')."""
    real = real_areas()
    areas: dict[str, float] = {}
    for municipality in municipalities:
        code = f"{int(municipality['kommunekode']):03d}"
        km2 = round(real[code] * rng.uniform(0.99, 1.01), 1)
        keys = (
            code,
            f"{int(municipality['regionskode']) - 1000:03d}",
            f"{int(municipality['landsdel_kode']):02d}",
            "000",
        )
        for key in keys:
            areas[key] = areas.get(key, 0.0) + km2
    figures = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for code, km2 in areas.items():
            figures[code, str(year)] = f"{km2:.1f}".replace(".", ",")
        figures[CHRISTIANSOE[0], str(year)] = ".."
    return figures


def _csv_answer(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [";".join(header), *(";".join(row) for row in rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _values(tableinfo: dict[str, Any], variable_id: str, selected: tuple[str, ...]) -> list[str]:
    variable = next(v for v in tableinfo["variables"] if v["id"] == variable_id)
    codes = [value["id"] for value in variable["values"]]
    return codes if "*" in selected else [code for code in codes if code in selected]


def _data_answer(request: TableRequest, tableinfo: dict[str, Any], figures: dict[tuple[str, ...], str]) -> bytes:
    """The CSV the API gives for the request: one column per selected variable, then INDHOLD; codes."""
    selected = [(code, _values(tableinfo, code, values)) for code, values in request.variables]
    rows: list[list[str]] = [[]]
    for _, codes in selected:
        rows = [[*row, code] for row in rows for code in codes]
    header = [code.upper() for code, _ in selected] + ["INDHOLD"]
    return _csv_answer(header, [[*row, figures.get(tuple(row), "..")] for row in rows])


def write_statbank_recordings(folder: Path, seed: int) -> list[Path]:
    """Record the API's answers for every declared table the sample knows (FOLK1A, ARE207) in `folder`."""
    shutil.rmtree(folder, ignore_errors=True)  # recordings append: start from an empty folder
    rng = random.Random(f"statbank-{seed}")
    municipalities = seed_rows("municipalities")
    known = {
        "FOLK1A": (folk1a_tableinfo(municipalities), _folk1a_figures(rng, municipalities)),
        "ARE207": (are207_tableinfo(municipalities), _are207_figures(rng, municipalities)),
    }
    written = []
    for request in declared_tables():
        if request.table_id not in known:
            continue
        tableinfo, figures = known[request.table_id]
        if request.value_presentation != "Code":
            raise ValueError(f"The sample records {request.table_id} with codes only; declare it with Code.")
        info_bytes = json.dumps(tableinfo, ensure_ascii=False).encode("utf-8")
        written.append(record_interaction(folder, "tableinfo", request.tableinfo_body(), 200, info_bytes, JSON_TYPE))
        data = _data_answer(request, tableinfo, figures)
        written.append(record_interaction(folder, "data", request.data_body(tableinfo, CSV), 200, data, CSV_TYPE))
    written.append(folder / "index.json")
    return written
