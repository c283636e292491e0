"""Statbank answers as they really come: tableinfo, CSV in three value presentations, JSON-stat, hand
downloads; and what a researcher is told about each kind of bad file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from samskab.common.reference import seed_rows
from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.sources.common import LandingFileError, RowError
from samskab.ingest.sources.statbank_format import (
    read_figure,
    read_period,
    read_statbank_csv,
    read_statbank_json_stat,
    read_tableinfo,
)
from samskab.sample.statbank_recordings import are207_tableinfo, folk1a_tableinfo
from tests.lakes import FIXTURES

FORMATS = FIXTURES / "formats" / "statbank"
PSEUDONYMISE = Pseudonymiser(b"s" * 32)


def write_tableinfo(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def folk1a_info_for(quarters: list[str]) -> dict:
    """FOLK1A's tableinfo (built from the municipality list) with the quarters a file holds."""
    document = folk1a_tableinfo(seed_rows("municipalities"))
    time = next(variable for variable in document["variables"] if variable["id"] == "Tid")
    time["values"] = [{"id": quarter, "text": quarter} for quarter in quarters]
    return document


def rewrite(path: Path, target: Path, info: dict, presentation: str) -> Path:
    """The same answer in another value presentation: codes, or 'code label' (CodeAndValue)."""
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    header = lines[0].split(";")
    by_label = {
        variable["id"].upper(): {value["text"]: value["id"] for value in variable["values"]}
        for variable in info["variables"]
    }
    out = [lines[0]]
    for line in filter(None, lines[1:]):
        cells = line.split(";")
        for index, name in enumerate(header[:-1]):
            code = by_label[name.upper()][cells[index]]
            cells[index] = code if presentation == "code" else f"{code} {cells[index]}"
        out.append(";".join(cells))
    target.write_bytes(("\ufeff" + "\r\n".join(out) + "\r\n").encode("utf-8"))
    return target


def rows_of(observations) -> list[dict]:
    return [observation.values for observation in observations]


# --- the three value presentations and JSON-stat give the same raw rows ----------------------------


def test_a_real_label_answer_and_its_code_and_code_label_forms_give_the_same_rows(tmp_path):
    real = FORMATS / "FOLK1A_whole_country.csv"
    quarters = [line.split(";")[2] for line in real.read_text(encoding="utf-8-sig").splitlines()[1:]]
    info_document = folk1a_info_for(quarters)
    info = read_tableinfo(write_tableinfo(tmp_path / "FOLK1A.tableinfo.json", info_document))
    readings = {}
    for presentation, path in {
        "label": real,
        "code": rewrite(real, tmp_path / "codes.csv", info_document, "code"),
        "code and label": rewrite(real, tmp_path / "both.csv", info_document, "both"),
    }.items():
        observations, rejects, found = read_statbank_csv(path, info, "statbank")
        assert rejects == [] and found == presentation
        readings[presentation] = rows_of(observations)
    assert readings["label"] == readings["code"] == readings["code and label"]
    first = readings["label"][0]
    assert len(readings["label"]) == 52
    assert first["area_code"] == "000" and first["area_level"] == "country" and first["municipality_code"] is None
    assert first["time_code"] == "2008K1" and first["period_start_date"] == date(2008, 1, 1)
    assert first["period_type"] == "quarter" and first["value"] == 5475791.0
    # CIVILSTAND stays a dimension, at its total category ('I alt' is code TOT).
    assert first["dimensions"] == '{"CIVILSTAND": "TOT"}' and first["dimensions_at_total"] is True


def test_a_real_english_csv_and_its_json_stat_give_the_same_rows():
    """STRAF42 as the API served it, in CSV with English labels and as JSON-stat (codes), read with the
    Danish tableinfo: 'Total' is the table's total category in either language."""
    info = read_tableinfo(FORMATS / "STRAF42_tableinfo_da.json")
    from_csv, csv_rejects, presentation = read_statbank_csv(FORMATS / "STRAF42_en.csv", info, "statbank")
    from_json, json_rejects, _ = read_statbank_json_stat(FORMATS / "STRAF42_en.jsonstat.json", info, "statbank")
    assert csv_rejects == json_rejects == [] and presentation == "label"
    assert rows_of(from_csv) == rows_of(from_json)
    (row,) = rows_of(from_csv)
    assert row["dimensions"] == '{"HERKOMST1": "00"}' and row["dimensions_at_total"] is True
    assert row["area_variable"] is None and row["value"] == 233454.0 and row["period_type"] == "year"


def test_the_area_variable_comes_from_tableinfo_and_every_kind_of_area_is_placed(tmp_path):
    """ARE207's OMRÅDE carries the map; the country, regions (081-085), landsdele (01-11), municipalities
    and Christiansø are each recognised and kept apart; decimal commas and '..' read as figures."""
    document = are207_tableinfo(seed_rows("municipalities"))
    info = read_tableinfo(write_tableinfo(tmp_path / "ARE207.tableinfo.json", document))
    assert info.area_variable is not None and info.area_variable.id == "OMRÅDE"
    answer = tmp_path / "ARE207_x.csv"
    answer.write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\n000;2019;42933,1\r\n084;2019;2546,3\r\n01;2019;88,2\r\n"
        "101;2019;86,4\r\n751;2019;468,1\r\n411;2019;..\r\n".encode()
    )
    observations, rejects, _ = read_statbank_csv(answer, info, "statbank")
    assert rejects == []
    placed = [
        (row["area_level"], row["municipality_code"], row["region_code"], row["landsdel_code"], row["value"])
        for row in rows_of(observations)
    ]
    assert placed == [
        ("country", None, None, None, 42933.1),
        ("region", None, 1084, None, 2546.3),
        ("landsdel", None, 1084, 1, 88.2),
        ("municipality", 101, 1084, 1, 86.4),
        ("municipality", 751, 1082, 9, 468.1),
        ("outside_municipalities", None, None, None, None),
    ]
    assert rows_of(observations)[-1]["value_marker"] == ".."


@pytest.mark.parametrize(
    ("code", "kind", "start"),
    [
        ("2016K4", "quarter", date(2016, 10, 1)),
        ("2016Q2", "quarter", date(2016, 4, 1)),
        ("2016M01", "month", date(2016, 1, 1)),
        ("2016M12", "month", date(2016, 12, 1)),
        ("2016H2", "half-year", date(2016, 7, 1)),
        ("2016U01", "week", date(2016, 1, 4)),
        ("2016", "year", date(2016, 1, 1)),
    ],
)
def test_statbank_time_codes_read_to_their_first_day(code, kind, start):
    assert read_period(code) == (kind, start)


@pytest.mark.parametrize("code", ["2016K5", "2016M13", "16K1", "2016-01", ""])
def test_a_time_code_that_is_none_of_statbanks_is_refused(code):
    with pytest.raises(RowError, match="is not a Statbank time code"):
        read_period(code)


def test_figures_read_decimal_commas_and_keep_the_missing_markers():
    assert read_figure("5475791") == (5475791.0, None)
    assert read_figure("86,4") == (86.4, None)
    assert read_figure("..") == (None, "..")
    assert read_figure("-") == (None, "-")
    with pytest.raises(RowError, match="is not a figure"):
        read_figure("1.234.567,8 km2")


# --- bad input: named file, row and reason, never the cell -----------------------------------------


def test_an_unknown_area_label_is_rejected_naming_file_row_and_column_not_the_label(tmp_path):
    info = read_tableinfo(write_tableinfo(tmp_path / "FOLK1A.tableinfo.json", folk1a_info_for(["2016K1"])))
    answer = tmp_path / "FOLK1A_hand.csv"
    answer.write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\nKøbenhavn;2016K1;591481\r\nNordslesvig;2016K1;20000\r\n"
        "Region Hovedstaden;2016K1;1789174\r\n".encode()
    )
    observations, rejects, presentation = read_statbank_csv(answer, info, "statbank")
    assert presentation == "label" and len(observations) == 2
    (reject,) = rejects
    assert (reject.file, reject.row, reject.column) == (str(answer), 3, "OMRÅDE")
    assert "tableinfo lists for OMRÅDE" in reject.reason and "Nordslesvig" not in str(reject)


def test_an_area_code_the_master_does_not_know_is_rejected(tmp_path):
    document = folk1a_info_for(["2016K1"])
    area = document["variables"][0]
    area["values"].append({"id": "999", "text": "Uden fast bopæl"})
    info = read_tableinfo(write_tableinfo(tmp_path / "FOLK1A.tableinfo.json", document))
    answer = tmp_path / "FOLK1A_codes.csv"
    answer.write_bytes("\ufeffOMRÅDE;TID;INDHOLD\r\n101;2016K1;591481\r\n999;2016K1;12\r\n".encode())
    observations, rejects, _ = read_statbank_csv(answer, info, "statbank")
    assert len(observations) == 1
    (reject,) = rejects
    assert reject.row == 3 and reject.column == "OMRÅDE" and "municipality master" in reject.reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("OMRÅDE;TID\r\n101;2016K1\r\n", "end with INDHOLD"),
        ("OMRÅDE;ALDERSGRUPPE;TID;INDHOLD\r\n101;x;2016K1;1\r\n", "header column 2 names no variable of FOLK1A"),
        # An area variable the table does not let a request leave out (not eliminable) must be there.
        ("KØN;TID;INDHOLD\r\nTOT;2016K1;1\r\n", "has no column for FOLK1A's area variable OMRÅDE"),
    ],
)
def test_a_header_that_is_not_the_tables_is_refused_at_row_1(tmp_path, content, reason):
    document = folk1a_info_for(["2016K1"])
    next(variable for variable in document["variables"] if variable["id"] == "OMRÅDE")["elimination"] = False
    info = read_tableinfo(write_tableinfo(tmp_path / "FOLK1A.tableinfo.json", document))
    answer = tmp_path / "FOLK1A_bad.csv"
    answer.write_bytes(("\ufeff" + content).encode())
    with pytest.raises(LandingFileError, match=reason) as refused:
        read_statbank_csv(answer, info, "statbank")
    assert refused.value.row == 1


def test_a_tableinfo_that_is_cut_short_or_not_a_tableinfo_is_refused(tmp_path):
    whole = json.dumps(folk1a_info_for(["2016K1"]), ensure_ascii=False)
    cut = tmp_path / "FOLK1A_cut.tableinfo.json"
    cut.write_text(whole[: len(whole) // 2], encoding="utf-8")
    with pytest.raises(LandingFileError, match="is not complete JSON"):
        read_tableinfo(cut)
    other = tmp_path / "FOLK1A_other.tableinfo.json"
    other.write_text('{"dataset": {}}', encoding="utf-8")
    with pytest.raises(LandingFileError, match="is not a Statbank tableinfo answer"):
        read_tableinfo(other)


# --- the landing zone: hand downloads beside the connector's answers ------------------------------


def statbank_lake(tmp_path: Path, tableinfo: bool = True) -> Settings:
    settings = Settings(data_lake=tmp_path / "lake")
    folder = settings.landing_dir / "statbank"
    folder.mkdir(parents=True)
    if tableinfo:
        write_tableinfo(folder / "api" / "FOLK1A_20261126T030000Z.tableinfo.json", folk1a_info_for(["2016K1"]))
    return settings


def landing_states(report) -> dict[str, tuple[str, str]]:
    return {row.file: (row.state, row.reason) for row in report.landing_files()}


def test_a_hand_download_is_read_with_the_landed_tableinfo_and_its_rows_name_their_file(tmp_path):
    settings = statbank_lake(tmp_path)
    hand = settings.landing_dir / "statbank" / "FOLK1A_downloaded by hand.csv"
    hand.write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\n101 København;2016K1;591481\r\n000 Hele landet;2016K1;5707251\r\n".encode()
    )
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    states = landing_states(report)
    assert states["statbank/FOLK1A_downloaded by hand.csv"][0] == "loaded"
    assert states["statbank/api/FOLK1A_20261126T030000Z.tableinfo.json"][0] == "loaded"
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = connection.execute(
            "select area_code, area_level, value, value_presentation, answer_format, source_file, source_row "
            "from raw.statbank_observations order by source_row"
        ).fetchall()
        variables = connection.execute(
            "select variable_id, is_area, is_time, total_code from raw.statbank_tableinfo order by source_row"
        ).fetchall()
    finally:
        connection.close()
    assert rows == [
        ("101", "municipality", 591481.0, "code and label", "download", "statbank/FOLK1A_downloaded by hand.csv", 2),
        ("000", "country", 5707251.0, "code and label", "download", "statbank/FOLK1A_downloaded by hand.csv", 3),
    ]
    assert variables == [
        ("OMRÅDE", True, False, None),
        ("KØN", False, False, "TOT"),
        ("ALDER", False, False, "IALT"),
        ("CIVILSTAND", False, False, "TOT"),
        ("Tid", False, True, None),
    ]


def test_bad_statbank_files_are_refused_or_named_and_the_researcher_is_told_why(tmp_path):
    settings = statbank_lake(tmp_path)
    folder = settings.landing_dir / "statbank"
    (folder / "FOLK1A_empty.csv").write_bytes(b"")
    (folder / "FOLK1A_excel.csv").write_bytes("OMRÅDE;TID;INDHOLD\r\nKøbenhavn;2016K1;591481\r\n".encode("cp1252"))
    (folder / "FOLK1A_cut.json").write_text('{"dataset": {"dimension": {"id": ["OMR', encoding="utf-8")
    (folder / "ARE207_2019.csv").write_bytes("\ufeffOMRÅDE;TID;INDHOLD\r\n101;2019;86,4\r\n".encode())
    (folder / "FOLK1A_lonely.request.json").write_text("{}", encoding="utf-8")
    (folder / ".FOLK1A_20261127T030000Z.csv.part").write_bytes(b"OMR")
    (folder / "notes.txt").write_text("where I got these", encoding="utf-8")
    (folder / "FOLK1A_labels.csv").write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\nKøbenhavn;2016K1;591481\r\nSønderjylland;2016K1;250000\r\n".encode()
    )
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    states = landing_states(report)
    assert states["statbank/FOLK1A_empty.csv"] == (
        "refused",
        "statbank/FOLK1A_empty.csv: is empty (0 bytes); deliver the file again",
    )
    assert (
        states["statbank/FOLK1A_excel.csv"][0] == "refused"
        and "is not UTF-8 (at byte" in states["statbank/FOLK1A_excel.csv"][1]
    )
    assert (
        states["statbank/FOLK1A_cut.json"][0] == "refused"
        and "is not complete JSON" in states["statbank/FOLK1A_cut.json"][1]
    )
    # A hand download of a table whose tableinfo never landed is read as it is written, placed nowhere.
    assert states["statbank/ARE207_2019.csv"][0] == "loaded"
    (area,) = [load for load in report.loads if load.delivery == "statbank/ARE207_2019.csv"]
    assert any("without ARE207's tableinfo" in note and "samskab registry fetch ARE207" in note for note in area.notes)
    assert states["statbank/FOLK1A_lonely.request.json"][0] == "not recognised"
    assert states["statbank/.FOLK1A_20261127T030000Z.csv.part"][0] == "ignored"
    assert states["statbank/notes.txt"][0] == "not recognised"
    needing = "\n".join(report.needing_attention())
    assert "København" not in needing and "591481" not in needing
    # An area label the table does not know: that row is rejected into the rejects table, the rest loads.
    assert states["statbank/FOLK1A_labels.csv"][0] == "loaded"
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rejected = connection.execute(
            "select file, line, column_name, reason from raw.rejected_rows where file = 'statbank/FOLK1A_labels.csv'"
        ).fetchall()
        loaded = connection.execute(
            "select count(*) from raw.statbank_observations where source_file = 'statbank/FOLK1A_labels.csv'"
        ).fetchall()
    finally:
        connection.close()
    assert loaded == [(1,)]
    ((file, line, column, reason),) = rejected
    assert (file, line, column) == ("statbank/FOLK1A_labels.csv", 3, "OMRÅDE")
    assert "tableinfo lists for OMRÅDE" in reason and "Sønderjylland" not in reason


def test_an_answer_that_leaves_out_the_area_is_the_whole_countrys_and_english_quarters_read(tmp_path):
    """Statbank lets a request leave out OMRÅDE (its tableinfo marks it eliminable): the figures are then
    the whole country's. An English answer writes the quarter 2016K1 as 2016Q1."""
    settings = statbank_lake(tmp_path)
    hand = settings.landing_dir / "statbank" / "FOLK1A_country_en.csv"
    hand.write_bytes("\ufeffKØN;TID;INDHOLD\r\nTotal;2016Q1;5707251\r\n".encode())
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    assert landing_states(report)["statbank/FOLK1A_country_en.csv"][0] == "loaded"
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = connection.execute(
            "select area_code, area_level, time_code, dimensions_at_total, value from raw.statbank_observations "
            "where source_file = 'statbank/FOLK1A_country_en.csv'"
        ).fetchall()
    finally:
        connection.close()
    assert rows == [("000", "country", "2016K1", True, 5707251.0)]  # sex at its total, the rest left out
