"""Read what Statistics Denmark's Statbank really serves: `tableinfo` answers, CSV and JSON-stat data.

A table's `tableinfo` answer (JSON) is the key to its data: it lists the table's variables with every
value's code and label, marks the time variable, and marks the area variable with a `map` (such as
`denmark_municipality_07`). So which column is the area is read from it, never guessed from a header.

Data arrive in one of three value presentations, chosen with `valuePresentation` in the request or by
whoever downloaded the file: codes (`101`), labels (`København`), or both (`101 København`). Each
column's presentation is recognised from the tableinfo's codes and labels, and every cell is read back
to its code, so the three presentations of one answer give the same rows.

The CSV form: `;`-separated, UTF-8 with a byte-order mark, CRLF line ends, one column per variable and
the figure last (`INDHOLD`), decimal comma, `..` or `-` where there is no figure. Time codes read
`2016K1` (`2016Q1` in English), `2016M01`, `2016H1`, `2016U01` or `2016`. JSON-stat (version 1, as the
API serves it, or 2) carries codes and labels itself.

Every area code is placed with the municipality master (the reference seeds): a municipality (3-digit
code, or DAGI's 4-digit one), a region (081-085 as Statbank writes them), a landsdel (01-11), the whole
country (000) or Christiansø (411), which is no municipality. Other variables (sex, age, ...) stay as
dimensions, each row saying whether all of them stand at their table's total category.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

from samskab.common.reference import seed_rows
from samskab.ingest.sources.common import LandingFileError, Reject, RowError
from samskab.ingest.sources.municipalities import UNRESOLVED, reference_resolver

CODE, LABEL, CODE_AND_LABEL, JSON_STAT = "code", "label", "code and label", "json-stat"
MISSING_MARKERS = ("..", "-")
VALUE_COLUMN = "INDHOLD"
VALUE_COLUMNS = (VALUE_COLUMN, "CONTENT")

COUNTRY = "country"
REGION = "region"
LANDSDEL = "landsdel"
MUNICIPALITY = "municipality"

_TOTAL_CODES = frozenset({"TOT", "IALT", "I ALT"})
_TOTAL_LABEL = re.compile(r"^(i alt|total|all)$|\bi alt$|, total$|^total\b", re.IGNORECASE)
_TOTAL_WORDS = ("I alt", "i alt", "Total", "total", "In total", "All")
_QUARTER_K = re.compile(r"^\d{4}K[1-4]$")
_TIME_CODES = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})[KQ]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$"), "month"),
    (re.compile(r"^(\d{4})H([12])$"), "half-year"),
    (re.compile(r"^(\d{4})U(0[1-9]|[1-4]\d|5[0-3])$"), "week"),
)


@dataclass(frozen=True)
class Variable:
    """One variable of a Statbank table, as its tableinfo describes it."""

    id: str
    text: str
    is_time: bool
    map: str | None
    elimination: bool
    values: tuple[tuple[str, str], ...]  # (code, label), in the table's order

    @property
    def is_area(self) -> bool:
        return bool(self.map)

    @property
    def total_code(self) -> str | None:
        """The table's total category of this variable ('TOT', 'IALT', '00' 'I alt', ...), if it has one."""
        if self.is_time or self.is_area:
            return None
        for code, label in self.values:
            if code.upper() in _TOTAL_CODES or _TOTAL_LABEL.search(label.strip()):
                return code
        return None


@dataclass(frozen=True)
class TableInfo:
    """A table's `tableinfo` answer: its id, unit and variables."""

    table_id: str
    text: str
    unit: str
    updated: str
    variables: tuple[Variable, ...]

    @property
    def area_variable(self) -> Variable | None:
        return next((variable for variable in self.variables if variable.is_area), None)

    def variable(self, name: str) -> Variable | None:
        """The variable a CSV header or JSON-stat dimension names (Statbank varies the case: Tid, TID)."""
        folded = name.strip().casefold()
        return next((variable for variable in self.variables if variable.id.casefold() == folded), None)


def read_tableinfo(path: Path) -> TableInfo:
    """Read a landed `tableinfo` answer; a file that is not one is refused with the reason."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise LandingFileError(path, f"is not UTF-8 (at byte {error.start}); fetch the tableinfo again") from None
    except json.JSONDecodeError as error:
        raise LandingFileError(
            path, f"is not complete JSON (line {error.lineno}); it may be cut short: fetch the tableinfo again"
        ) from None
    try:
        variables = tuple(
            Variable(
                id=str(variable["id"]),
                text=str(variable.get("text", "")),
                is_time=bool(variable.get("time", False)),
                map=variable.get("map") or None,
                elimination=bool(variable.get("elimination", False)),
                values=tuple((str(value["id"]), str(value.get("text", ""))) for value in variable["values"]),
            )
            for variable in document["variables"]
        )
        info = TableInfo(
            table_id=str(document["id"]).upper(),
            text=str(document.get("text", "")),
            unit=str(document.get("unit", "")),
            updated=str(document.get("updated", "")),
            variables=variables,
        )
    except (KeyError, TypeError, AttributeError):
        raise LandingFileError(
            path,
            "is not a Statbank tableinfo answer (it needs an id and variables, each with an id and values)",
        ) from None
    if not variables:
        raise LandingFileError(path, "is a tableinfo answer with no variables")
    return info


def tableinfo_from_answer(table_id: str, columns: dict[str, list[tuple[str, str]]], time: str | None) -> TableInfo:
    """A stand-in tableinfo for an answer read without its table's own: each variable with the values
    the answer holds (code and label as given), `time` marked as the time, and no area map: with no map
    to go by, no column is placed in the municipality master (a "Copenhagen" may be a municipality or a
    constituency), and no total is known beyond the labels that say so ("Total", "I alt")."""
    variables = tuple(
        Variable(id=name, text=name, is_time=name == time, map=None, elimination=False, values=tuple(values))
        for name, values in columns.items()
    )
    return TableInfo(table_id=table_id, text="", unit="", updated="", variables=variables)


def time_column(names: list[str], cells: dict[str, set[str]]) -> str | None:
    """The time variable of an answer without its tableinfo: the column named Tid or Time, else the one
    column whose every cell is a Statbank time code."""
    named = [name for name in names if name.strip().casefold() in ("tid", "time")]
    if len(named) == 1:
        return named[0]
    coded = [name for name in names if cells[name] and all(_is_time_code(cell) for cell in cells[name])]
    return coded[0] if len(coded) == 1 else None


def _is_time_code(cell: str) -> bool:
    return any(pattern.match(cell.strip()) for pattern, _ in _TIME_CODES)


@dataclass(frozen=True)
class Place:
    """Where an area code sits in the municipality master."""

    level: str
    municipality_code: int | None = None
    region_code: int | None = None
    landsdel_code: int | None = None


@lru_cache(maxsize=4)
def _places(municipalities: tuple[tuple[str, str, str], ...], others: tuple[tuple[str, str], ...]) -> dict[str, Place]:
    places: dict[str, Place] = {}
    for municipality, region, landsdel in municipalities:
        code, region_code, landsdel_code = int(municipality), int(region), int(landsdel)
        place = Place(MUNICIPALITY, code, region_code, landsdel_code)
        places[f"{code:03d}"] = places[f"{code:04d}"] = place
        # Statbank numbers the regions 081-085; DAGI (the master's regionskode) 1081-1085.
        region_place = Place(REGION, region_code=region_code)
        places[f"{region_code - 1000:03d}"] = places[str(region_code - 1000)] = places[str(region_code)] = region_place
        landsdel_place = Place(LANDSDEL, region_code=region_code, landsdel_code=landsdel_code)
        places[f"{landsdel_code:02d}"] = landsdel_place
    for code, level in others:  # the whole country (0, written 000) and Christiansø (411)
        places[code] = places[f"{int(code):03d}"] = Place(level)
    return places


def master_places() -> dict[str, Place]:
    """Every Statbank area code the municipality master knows, with its level."""
    municipalities = tuple(
        (row["kommunekode"], row["regionskode"], row["landsdel_kode"]) for row in seed_rows("municipalities")
    )
    others = tuple((row["area_code"], row["area_level"]) for row in seed_rows("other_areas"))
    return _places(municipalities, others)


def read_period(code: str) -> tuple[str, date]:
    """A Statbank time code's kind and first day: '2016K4' -> ('quarter', 2016-10-01)."""
    text = code.strip()
    for pattern, kind in _TIME_CODES:
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        part = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 1
        if kind == "quarter":
            return kind, date(year, 3 * part - 2, 1)
        if kind == "month":
            return kind, date(year, part, 1)
        if kind == "half-year":
            return kind, date(year, 6 * part - 5, 1)
        if kind == "week":
            try:
                return kind, date.fromisocalendar(year, part, 1)
            except ValueError:
                break
        return kind, date(year, 1, 1)
    raise RowError(None, "is not a Statbank time code (2016, 2016K1, 2016Q1, 2016M01, 2016H1 or 2016U01)")


def read_figure(text: str) -> tuple[float | None, str | None]:
    """A figure as Statbank writes it: decimal comma; '..' or '-' where there is none (kept as the marker)."""
    value = text.strip()
    if value in MISSING_MARKERS:
        return None, value
    try:
        return float(value.replace(",", ".")), None
    except ValueError:
        raise RowError(
            VALUE_COLUMN, "is not a figure (Statbank writes decimals with a comma, and '..' or '-' for none)"
        ) from None


class ColumnReader:
    """Reads one variable's cells back to codes, in the presentation the column turns out to use."""

    def __init__(self, table_id: str, variable: Variable, cells: set[str], presentation: str | None = None) -> None:
        self.table_id = table_id
        self.variable = variable
        forms: dict[str, dict[str, str]] = {CODE: {}, LABEL: {}, CODE_AND_LABEL: {}}
        ambiguous_labels: set[str] = set()
        for code, label in variable.values:
            forms[CODE][code] = code
            if label in forms[LABEL] and forms[LABEL][label] != code:
                ambiguous_labels.add(label)
            forms[LABEL][label] = code
            forms[CODE_AND_LABEL][f"{code} {label}"] = code
        for label in ambiguous_labels:  # two values with one label: only the code tells them apart
            del forms[LABEL][label]
        if variable.is_time:  # an English answer writes the quarter 2016K1 as 2016Q1
            for code, _ in variable.values:
                if _QUARTER_K.match(code):
                    forms[CODE].setdefault(code.replace("K", "Q"), code)
        # A file downloaded in the other language than its tableinfo still names its total category.
        if variable.total_code is not None:
            for word in _TOTAL_WORDS:
                forms[LABEL].setdefault(word, variable.total_code)
        # The presentation that reads the most of the column's distinct cells (codes first on a tie).
        self.presentation = presentation or max(forms, key=lambda form: sum(cell in forms[form] for cell in cells))
        self._codes = forms[self.presentation]

    def code(self, cell: str) -> str:
        code = self._codes.get(cell)
        if code is None and self.variable.is_area and self.presentation == LABEL:
            code = _area_code_by_name(cell)
        if code is None:
            refetch = (
                f"fetch {self.table_id}'s tableinfo again (`samskab registry fetch {self.table_id}`, or place a new "
                f"tableinfo answer beside it as {self.table_id}_<anything>.tableinfo.json)"
            )
            if self.variable.is_time:
                raise RowError(
                    self.variable.id,
                    f"is a period that the table's tableinfo does not list: the answer is newer than the tableinfo "
                    f"it was read with; {refetch}",
                )
            raise RowError(
                self.variable.id,
                f"is not one of the values the table's tableinfo lists for {self.variable.id} "
                f"(read as {self.presentation}s, the form of the column's other cells); if the file is of this "
                f"table and Statbank added the value since, {refetch}",
            )
        return code


def _area_code_by_name(name: str) -> str | None:
    """Statbank's code for an area named as the master names it (a label the tableinfo lacks, say in
    another language's download): a municipality, a region, the whole country or Christiansø."""
    area = reference_resolver().resolve(name)
    if area.code is None or area.level == UNRESOLVED:
        return None
    return f"{area.code - 1000 if area.level == REGION else area.code:03d}"


@dataclass
class Observation:
    """One figure of a Statbank answer: its table, area, period, other dimensions and value."""

    values: dict[str, Any]
    row: int


def eliminated_area(area: Variable) -> str | None:
    """The area an answer stands for when it leaves out an area variable the tableinfo lets it leave out
    (`elimination`): the whole country, when the variable has it (code 000); else None."""
    if not area.elimination:
        return None
    return next((code for code, _ in area.values if code in ("000", "0")), None)


class ObservationBuilder:
    """Turns one cell combination (codes by variable) into a raw row, placing the area in the master."""

    def __init__(self, info: TableInfo, variables: list[Variable]) -> None:
        self.info = info
        self.area = info.area_variable
        self.time = next((variable for variable in variables if variable.is_time), None)
        self.others = [variable for variable in variables if variable is not self.area and variable is not self.time]
        # Each variable's total, found once (per row, a long label was searched again for every figure).
        self.totals = {variable.id: variable.total_code for variable in self.others}
        self.places = master_places()

    def build(self, codes: dict[str, str], value: float | None, marker: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "table_id": self.info.table_id,
            "area_variable": self.area.id if self.area else None,
            "area_code": None,
            "area_level": None,
            "municipality_code": None,
            "region_code": None,
            "landsdel_code": None,
        }
        if self.area is not None:
            if self.area.id not in codes and eliminated_area(self.area) is not None:
                # Left out of the request: Statbank gives the figure for its total, the whole country.
                codes = {**codes, self.area.id: eliminated_area(self.area)}
            if self.area.id not in codes:
                raise RowError(self.area.id, "is missing: the table's area variable must be in the answer")
            place = self.places.get(codes[self.area.id])
            if place is None:
                raise RowError(
                    self.area.id,
                    "is not a municipality, region, landsdel, the whole country or Christiansø in the "
                    "municipality master (dbt_project/seeds/municipalities.csv, other_areas.csv)",
                )
            row.update(
                area_code=codes[self.area.id],
                area_level=place.level,
                municipality_code=place.municipality_code,
                region_code=place.region_code,
                landsdel_code=place.landsdel_code,
            )
        if self.time is not None:
            time_code = codes[self.time.id]
            try:
                period_type, period_start = read_period(time_code)
            except RowError as error:
                raise RowError(self.time.id, error.reason) from None
        else:
            time_code, period_type, period_start = None, None, None
        dimensions = {variable.id: codes[variable.id] for variable in self.others}
        row.update(
            time_code=time_code,
            period_type=period_type,
            period_start_date=period_start,
            dimensions=json.dumps(dimensions, ensure_ascii=False, sort_keys=True),
            dimensions_at_total=all(codes[variable.id] == self.totals[variable.id] for variable in self.others),
            value=value,
            value_marker=marker,
        )
        return row


def _csv_lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(
            path,
            f"is not UTF-8 (at byte {error.start}); download the table from Statbank again as CSV (UTF-8), "
            "not re-saved by a spreadsheet",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_statbank_csv(
    path: Path, info: TableInfo | None, source: str, table_id: str = ""
) -> tuple[list[Observation], list[Reject], str]:
    """Read a CSV (or BULK) answer with its tableinfo (or, when none has landed, with a stand-in made from
    the answer itself). Returns observations, rejects and the presentation."""
    lines = _csv_lines(path)
    header = lines[0].split(";") if lines else []
    if len(header) < 2 or header[-1].strip().upper() not in VALUE_COLUMNS:
        raise LandingFileError(
            path,
            f"the header (row 1) should name the table's variables and end with {VALUE_COLUMN}, as Statbank "
            "writes CSV; download the table again as CSV with ';' between columns",
            row=1,
        )
    if info is None:
        info = _answer_tableinfo(table_id, header, lines)
    variables = []
    for position, name in enumerate(header[:-1], start=1):
        variable = info.variable(name)
        if variable is None:
            raise LandingFileError(
                path,
                f"header column {position} names no variable of {info.table_id} in its tableinfo; "
                "is the file from another table?",
                row=1,
            )
        variables.append(variable)
    area = info.area_variable
    if area is not None and area not in variables and eliminated_area(area) is None:
        raise LandingFileError(
            path,
            f"has no column for {info.table_id}'s area variable {area.id}; download it again with {area.id} selected",
            row=1,
        )
    records = [
        (number, line.split(";")) for number, line in enumerate(lines[1:], start=2) if line.strip() and line != "\ufeff"
    ]
    columns = [
        ColumnReader(
            info.table_id, variable, {fields[index].strip() for _, fields in records if len(fields) == len(header)}
        )
        for index, variable in enumerate(variables)
    ]
    builder = ObservationBuilder(info, variables)
    observations, rejects = [], []
    for number, fields in records:
        try:
            if len(fields) != len(header):
                raise RowError(None, f"has {len(fields)} fields; the header has {len(header)}")
            cells = zip(columns, fields[:-1], strict=True)
            codes = {column.variable.id: column.code(field.strip()) for column, field in cells}
            value, marker = read_figure(fields[-1])
            observations.append(Observation(builder.build(codes, value, marker), number))
        except RowError as error:
            rejects.append(Reject(source, str(path), number, error.column, error.reason))
    presentations = {column.presentation for column in columns if not column.variable.is_time}
    presentation = presentations.pop() if len(presentations) == 1 else "mixed"
    return observations, rejects, presentation


def _answer_tableinfo(table_id: str, header: list[str], lines: list[str]) -> TableInfo:
    names = [name.strip() for name in header[:-1]]
    cells: dict[str, set[str]] = {name: set() for name in names}
    for line in lines[1:]:
        fields = line.split(";")
        if len(fields) == len(header):
            for name, field in zip(names, fields, strict=False):
                cells[name].add(field.strip())
    columns = {name: [(cell, cell) for cell in sorted(cells[name])] for name in names}
    return tableinfo_from_answer(table_id, columns, time_column(names, cells))


def _category_codes(dimension: dict[str, Any]) -> list[str]:
    index = dimension["category"]["index"]
    if isinstance(index, list):
        return [str(code) for code in index]
    return [str(code) for code, _ in sorted(index.items(), key=lambda item: item[1])]


def _json_stat_cells(dataset: dict[str, Any]) -> Iterator[tuple[int, dict[str, str], Any, Any]]:
    dimension = dataset["dimension"]
    ids = dimension.get("id") or dataset["id"]
    sizes = dimension.get("size") or dataset["size"]
    codes = [_category_codes(dimension[name]) for name in ids]
    if [len(values) for values in codes] != list(sizes):
        raise ValueError("sizes disagree with categories")
    values = dataset["value"]
    status = dataset.get("status") or {}
    for position, combination in enumerate(product(*codes)):
        value = values.get(str(position)) if isinstance(values, dict) else values[position]
        marker = status.get(str(position)) if isinstance(status, dict) else status[position]
        yield position, dict(zip(ids, combination, strict=True)), value, marker


def read_statbank_json_stat(
    path: Path, info: TableInfo | None, source: str, table_id: str = ""
) -> tuple[list[Observation], list[Reject], str]:
    """Read a JSON-stat answer (version 1 `{"dataset": ...}` as the API serves it, or version 2), with its
    table's tableinfo, or with a stand-in made from the answer's own dimensions when none has landed."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LandingFileError(path, "is not complete JSON; it may be cut short: download it again") from None
    dataset = document.get("dataset", document) if isinstance(document, dict) else None
    try:
        names = list(dataset["dimension"].get("id") or dataset["id"])  # type: ignore[index]
        cells = list(_json_stat_cells(dataset))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        raise LandingFileError(
            path, "is not a JSON-stat dataset (dimension ids, sizes, categories and values that agree)"
        ) from None
    if info is None:
        info = _json_stat_tableinfo(table_id, dataset, names)  # type: ignore[arg-type]
    variables = []
    for name in names:
        variable = info.variable(name)
        if variable is None:
            # The metric (ContentsCode) and other one-value dimensions describe the figure, not a variable.
            if len(_category_codes(dataset["dimension"][name])) == 1:
                continue
            raise LandingFileError(path, f"dimension {name} is no variable of {info.table_id} in its tableinfo")
        variables.append(variable)
    # JSON-stat names every category by its code, whatever presentation was asked for.
    readers = {variable.id: ColumnReader(info.table_id, variable, set(), presentation=CODE) for variable in variables}
    builder = ObservationBuilder(info, variables)
    observations, rejects = [], []
    for position, combination, value, marker in cells:
        row = position + 1
        try:
            codes = {
                variable.id: readers[variable.id].code(combination[name])
                for name in names
                if (variable := info.variable(name)) is not None and variable in variables
            }
            figure, figure_marker = (None, marker or "..") if value is None else (_json_number(value), None)
            observations.append(Observation(builder.build(codes, figure, figure_marker), row))
        except RowError as error:
            rejects.append(Reject(source, str(path), row, error.column, error.reason))
    return observations, rejects, JSON_STAT


def _json_stat_tableinfo(table_id: str, dataset: dict[str, Any], names: list[str]) -> TableInfo:
    dimensions = dataset["dimension"]
    role = dimensions.get("role") or dataset.get("role") or {}
    columns, cells = {}, {}
    for name in names:
        codes = _category_codes(dimensions[name])
        if len(codes) == 1 and name not in (role.get("time") or []):
            continue  # the metric (ContentsCode): it describes the figure
        labels = dimensions[name]["category"].get("label") or {}
        columns[name] = [(code, str(labels.get(code, code))) for code in codes]
        cells[name] = set(codes)
    timed = [name for name in role.get("time") or [] if name in columns]
    time = timed[0] if len(timed) == 1 else time_column(list(columns), cells)
    return tableinfo_from_answer(table_id, columns, time)


def _json_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowError(VALUE_COLUMN, "is not a number in the JSON-stat values")
    return float(value)
