"""Canaries (issue 22): identifying values planted in deliveries, and the search for them afterwards.

A test plants them where a researcher's files would carry such values (a name and an e-mail as typed, a
CPR number and a phone number typed into answers, an informant's name), runs the platform, and searches
every file outside the raw layer: none may hold one. The search reads DuckDB files by their values (their
bytes are compressed) and any other file by its bytes, as UTF-8 or UTF-16, case folded.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from tests.torture import tally

CANARIES = {
    "name": "Kanarina Fuglsang-Kanariesen",
    "e-mail": "kanarina.kanariesen@kanarie-eksempel.dk",
    "CPR number": "010170-4231",
    "phone": "+45 31 41 59 26",
    "informant": "Kanarius Informantsen",
}


def plant_in_survey_rows(header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """A head's name and e-mail as typed, and a CPR number and a phone number typed into answer columns
    by mistake (in a SurveyXact dataset's rows: tests.lakes.rewrite_dataset)."""
    rows[0][header.index("name")], rows[0][header.index("email")] = CANARIES["name"], CANARIES["e-mail"]
    rows[1][header.index("q2")] = CANARIES["CPR number"]
    rows[2][header.index("q3_1")] = CANARIES["phone"]
    return rows


def plant_in_case_register(workbook) -> None:
    """An informant's name in the case register (an openpyxl workbook, saved by the caller)."""
    informants = workbook["Informanter"]
    names = [cell.value for cell in informants[1]].index("navn") + 1
    informants.cell(row=2, column=names).value = CANARIES["informant"]


def _texts_of_a_duckdb_file(path: Path) -> str:
    """Every value of every table of a DuckDB file, as text."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
        return "\n".join(
            str(connection.execute(f'select * from "{schema}"."{table}"').fetchall()) for schema, table in tables
        )


def places_holding(files: list[Path], wanted: dict[str, str]) -> list[tuple[str, str]]:
    """(file, what) for each wanted text found in a file."""
    found = []
    for path in files:
        if path.suffix == ".duckdb":
            haystacks = [_texts_of_a_duckdb_file(path).casefold().encode()]
        else:
            raw = path.read_bytes().lower()
            haystacks = [raw, raw.replace(b"\x00", b"")]
        for what, text in wanted.items():
            needle = text.casefold().encode()
            if any(needle in haystack for haystack in haystacks):
                found.append((str(path), what))
    return found


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.endswith(".lock"))


def raw_layer(lake: Path) -> set[Path]:
    """The warehouse's own file (raw, and the models dbt builds from it): where pseudonymised rows live."""
    warehouse = lake / "warehouse"
    return {warehouse / "warehouse.duckdb", warehouse / "warehouse.duckdb.wal"}


def outside_raw(lake: Path) -> list[Path]:
    """Every file of the lake but the raw layer and the landing zone (the researcher's own deliveries)."""
    inside = raw_layer(lake)
    return [path for path in files_under(lake) if path not in inside and not path.is_relative_to(lake / "landing")]


def prefect_files() -> list[Path]:
    """The files of the tests' Prefect server: its database (every run's logs, states and artifacts)."""
    return files_under(Path(os.environ["SAMSKAB_TESTS_PREFECT_HOME"]))


def tally_search(after: str, searched: list[Path], hits: list[tuple[str, str]]) -> None:
    """For `make torture`'s table: how many files were searched after what, and how many canaries hit."""
    tally.record("canaries", after, "searched", n=len(searched))
    tally.record("canaries", after, "hit", n=len(hits))
