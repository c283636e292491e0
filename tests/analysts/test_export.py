"""Exports for analysts' tools (samskab/analysts/export.py) from the published file of the refreshed sample.

Every table is exported in every format once per module, into a copy of the published file (never the
published file itself, which is opened read-only only). The copy gets meta.data_dictionary and
meta.value_labels from the dbt project's YAML and seeds when the published file lacks them
(`add_meta_tables`), so these tests hold before and after publish writes them itself.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
import yaml

from samskab.analysts import export
from samskab.analysts.export import FORMATS, Exported, ExportRefused, export_tables, shorten
from samskab.publish.catalog import SYNTHETIC_NOTE
from tests.lakes import REPO

pytestmark = pytest.mark.end_to_end

DBT_PROJECT = REPO / "dbt_project"
SEEDS = DBT_PROJECT / "seeds"
SOURCE_LABEL = "Samskabelse analytics.duckdb, test run"
# The codebook of a coded column, where the marts' YAML does not name it (`meta: codebook:`).
CODEBOOK_OF_COLUMN = {
    "municipality_code": "municipalities",
    "region_code": "regions",
    "municipality_group_code": "municipality_groups",
    "sector_area_code": "sector_areas",
    "answer_category": "answer_categories",
}
XML_TEXT = re.compile(rb"<t(?: [^>]*)?>([^<]*)</t>")
GROUP_NAMES_EN = {
    1: "Capital municipalities",
    2: "Metropolitan municipalities",
    3: "Provincial municipalities",
    4: "Commuter municipalities",
    5: "Rural municipalities",
}


# --- the two meta tables, as publish is to write them -----------------------------------------------


def _has_table(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _marts_yaml() -> dict[str, dict]:
    models: dict[str, dict] = {}
    for path in sorted((DBT_PROJECT / "models" / "marts").glob("_marts__*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            models[model["name"]] = model
    return models


def _value_label_rows() -> list[tuple]:
    """(codebook, value, code, label_da, label_en, sort_order) from the reference seeds."""
    rows: list[tuple] = []
    municipalities = pd.read_csv(SEEDS / "municipalities.csv", dtype=str)
    for order, row in enumerate(municipalities.sort_values("kommunekode", key=lambda s: s.astype(int)).itertuples(), 1):
        rows.append(("municipalities", str(int(row.kommunekode)), int(row.kommunekode), row.navn, row.navn, order))
    regions = municipalities[["regionskode", "regionsnavn"]].drop_duplicates()
    for row in regions.itertuples():
        code = int(row.regionskode)
        rows.append(("regions", str(code), code, row.regionsnavn, row.regionsnavn, code - 1080))
    groups = pd.read_csv(SEEDS / "kommunegrupper.csv", sep=";", dtype=str)
    for row in groups[groups["NIVEAU"] == "1"].itertuples():
        code = int(row.KODE)
        rows.append(("municipality_groups", str(code), code, row.TITEL, GROUP_NAMES_EN.get(code, row.TITEL), code))
    for row in pd.read_csv(SEEDS / "sector_areas.csv", dtype=str).itertuples():
        code = int(row.sector_area_code)
        rows.append(("sector_areas", str(code), code, row.sector_area_name_da, row.sector_area_name_en, code))
    categories = pd.read_csv(SEEDS / "answer_categories.csv", dtype=str)
    for position, row in enumerate(categories.itertuples(), 1):
        # The seed's integer code where it has one; else its position (dont_know keeps 99, SPSS's habit).
        code = int(
            getattr(row, "answer_category_code", None) or (99 if row.answer_category == "dont_know" else position)
        )
        rows.append(
            (
                "answer_categories",
                row.answer_category,
                code,
                row.answer_category_name_da,
                row.answer_category_name_en,
                code,
            )
        )
    return rows


def add_meta_tables(path: Path) -> None:
    """Add meta.data_dictionary and meta.value_labels to the DuckDB file at `path` unless it has them:
    descriptions and codebooks from the marts' YAML, value labels from the reference seeds."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create schema if not exists meta")
        if not _has_table(connection, "meta", "value_labels"):
            connection.execute(
                "create table meta.value_labels (codebook varchar, value varchar, code integer, "
                "label_da varchar, label_en varchar, sort_order integer)"
            )
            connection.executemany("insert into meta.value_labels values (?, ?, ?, ?, ?, ?)", _value_label_rows())
        if not _has_table(connection, "meta", "data_dictionary"):
            models = _marts_yaml()
            columns = connection.execute(
                "select table_name, column_name, ordinal_position, data_type from information_schema.columns "
                "where table_schema = 'main' order by table_name, ordinal_position"
            ).fetchall()
            rows, seen = [], set()
            for table, column, position, data_type in columns:
                model = models.get(table, {})
                if table not in seen:
                    seen.add(table)
                    rows.append(("main", table, None, 0, None, model.get("description"), None, None))
                doc = next((c for c in model.get("columns", []) if c["name"] == column), {})
                meta = doc.get("meta") or doc.get("config", {}).get("meta") or {}
                codebook = meta.get("codebook") or CODEBOOK_OF_COLUMN.get(column)
                rows.append(("main", table, column, position, data_type, doc.get("description"), None, codebook))
            connection.execute(
                "create table meta.data_dictionary (table_schema varchar, table_name varchar, column_name varchar, "
                "ordinal_position integer, data_type varchar, description varchar, question_da varchar, "
                "codebook varchar)"
            )
            connection.executemany("insert into meta.data_dictionary values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        connection.close()


# --- one export of everything, shared by the module -------------------------------------------------------


@dataclass
class Exports:
    source: Path
    out: dict[str, Path]
    results: dict[str, list[Exported]]
    seconds: dict[str, float]
    tables: list[str]
    row_counts: dict[str, int]
    value_labels: pd.DataFrame
    dictionary: pd.DataFrame
    progress: dict[str, list[tuple[str, int, int]]]
    manifest: object


@pytest.fixture(scope="module")
def exports(refreshed_lake, tmp_path_factory: pytest.TempPathFactory) -> Exports:
    lake, manifest, _ = refreshed_lake
    root = tmp_path_factory.mktemp("exports")
    source = root / "analytics.duckdb"
    shutil.copyfile(lake / "published" / "analytics.duckdb", source)
    add_meta_tables(source)
    connection = duckdb.connect(str(source), read_only=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
            ).fetchall()
        ]
        row_counts = {
            table: connection.execute(f'select count(*) from main."{table}"').fetchone()[0] for table in tables
        }
        value_labels = connection.execute("select * from meta.value_labels").df()
        dictionary = connection.execute("select * from meta.data_dictionary where table_schema = 'main'").df()
        out, results, seconds, progress = {}, {}, {}, {}
        for fmt in FORMATS:
            out[fmt] = root / fmt
            calls: list[tuple[str, int, int]] = []
            started = time.perf_counter()
            results[fmt] = export_tables(
                connection, tables, fmt, out[fmt], SOURCE_LABEL, progress=lambda *call, calls=calls: calls.append(call)
            )
            seconds[fmt] = time.perf_counter() - started
            progress[fmt] = calls
    finally:
        connection.close()
    print("export seconds, all tables:", {fmt: round(value, 2) for fmt, value in seconds.items()})
    return Exports(source, out, results, seconds, tables, row_counts, value_labels, dictionary, progress, manifest)


def _code(exports: Exports, codebook: str, value: str) -> int:
    labels = exports.value_labels
    return int(labels[(labels["codebook"] == codebook) & (labels["value"] == value)]["code"].iloc[0])


def _column_descriptions(exports: Exports, table: str) -> dict[str, str]:
    rows = exports.dictionary[(exports.dictionary["table_name"] == table) & exports.dictionary["column_name"].notna()]
    return {row.column_name: " ".join(row.description.split()) for row in rows.itertuples() if row.description}


# --- the tests ------------------------------------------------------------------------------------------


def test_every_table_is_exported_in_every_format_with_its_row_count(exports):
    assert len(exports.tables) >= 20
    for fmt in FORMATS:
        assert [item.table for item in exports.results[fmt]] == exports.tables
        for item in exports.results[fmt]:
            assert item.path == exports.out[fmt] / f"{item.table}.{fmt}" and item.path.is_file()
            assert item.n_rows == exports.row_counts[item.table], (fmt, item.table)
        assert exports.progress[fmt] == [(table, i, len(exports.tables)) for i, table in enumerate(exports.tables, 1)]
        leftovers = [path.name for path in exports.out[fmt].iterdir() if path.name.startswith(".")]
        assert leftovers == []


def test_spss_export_of_survey_answers_labelled_round_trips_with_labels(exports):
    frame, meta = pyreadstat.read_sav(str(exports.out["sav"] / "survey_answers_labelled.sav"))
    assert len(frame) == exports.row_counts["survey_answers_labelled"]
    labels = meta.column_names_to_labels
    for column, description in _column_descriptions(exports, "survey_answers_labelled").items():
        assert labels[column] == shorten(description, 255, 255)
    dont_know = _code(exports, "answer_categories", "dont_know")
    assert meta.variable_value_labels["answer_category"][dont_know] == "Ved ikke"
    assert meta.variable_value_labels["municipality_code"][101] == "København"
    assert meta.variable_value_labels["is_dont_know"] == {0: "Nej", 1: "Ja"}
    assert frame["municipality_code"].dropna().between(101, 860).all()
    assert SOURCE_LABEL.startswith(meta.file_label.rstrip("…"))
    # "Ved ikke" is a user-missing value: SPSS leaves it out of a mean, as the marts leave it out of a share.
    with_missing, meta = pyreadstat.read_sav(str(exports.out["sav"] / "survey_answers_labelled.sav"), user_missing=True)
    said_dont_know = with_missing["is_dont_know"] == 1
    assert set(with_missing.loc[said_dont_know, "answer_category"]) == {dont_know}
    assert meta.missing_ranges["answer_category"] == [{"lo": dont_know, "hi": dont_know}]
    raw_dont_know = set(with_missing.loc[said_dont_know, "answer_code"])
    assert raw_dont_know and {r["lo"] for r in meta.missing_ranges["answer_code"]} == raw_dont_know
    assert frame.loc[said_dont_know, ["answer_category", "answer_code"]].isna().all().all()
    assert frame["answer_code"].notna().sum() == (~said_dont_know & with_missing["answer_code"].notna()).sum()
    # A raw answer code is labelled where it means one thing on every scale ("Ved ikke" among them).
    code_labels = meta.variable_value_labels["answer_code"]
    assert {code_labels[code] for code in raw_dont_know} == {"Ved ikke"}
    labelled = with_missing[with_missing["answer_code"].isin(list(code_labels))]
    published = duckdb.connect(str(exports.source), read_only=True)
    try:
        by_code = dict(
            published.execute(
                "select answer_code, min(answer_label_da) from survey_answers_labelled "
                "group by 1 having count(distinct answer_label_da) = 1"
            ).fetchall()
        )
    finally:
        published.close()
    assert code_labels == {float(code): label for code, label in by_code.items()} and len(labelled) > 0
    # Data View widths follow the data: the pseudonyms' full width, not SPSS's default 8.
    assert meta.variable_display_width["respondent_pseudonym"] == frame["respondent_pseudonym"].str.len().max()


def test_stata_export_round_trips_with_labels_shortened_to_80_characters(exports):
    frame, meta = pyreadstat.read_dta(str(exports.out["dta"] / "survey_answers_labelled.dta"))
    assert len(frame) == exports.row_counts["survey_answers_labelled"]
    labels = meta.column_names_to_labels
    descriptions = _column_descriptions(exports, "survey_answers_labelled")
    assert any(len(description) > 80 for description in descriptions.values())
    for column, description in descriptions.items():
        label = labels[column]
        assert len(label) <= 80
        if len(description) <= 80:
            assert label == description
        else:  # cut at a word boundary, ended with an ellipsis
            assert label.endswith("…") and description.startswith(label[:-1]), label
            assert description[len(label) - 1] in " ,;:.-(", label
    # "Ved ikke" is Stata's extended missing value .a, labelled: a mean leaves it out.
    assert meta.variable_value_labels["answer_category"]["a"] == "Ved ikke"
    assert _code(exports, "answer_categories", "dont_know") not in meta.variable_value_labels["answer_category"]
    assert meta.variable_value_labels["answer_code"]["a"] == "Ved ikke"
    assert meta.variable_value_labels["municipality_code"][101] == "København"
    coded = pd.read_stata(
        exports.out["dta"] / "survey_answers_labelled.dta", convert_missing=True, convert_categoricals=False
    )
    for column in ("answer_category", "answer_code"):
        extended = coded[column].map(lambda value: getattr(value, "string", None) == ".a")
        assert extended.equals(coded["is_dont_know"] == 1), column
    assert len(meta.file_label) <= 80 and meta.file_label == SOURCE_LABEL
    assert all(len(name) <= 32 for name in frame.columns)
    # Every table opens in Stata, its names within 32 characters.
    for item in exports.results["dta"]:
        _, table_meta = pyreadstat.read_dta(str(item.path), metadataonly=True)
        assert table_meta.number_rows == item.n_rows and all(len(name) <= 32 for name in table_meta.column_names)


def test_csv_export_opens_in_danish_excel(exports):
    path = exports.out["csv"] / "municipality_profile.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == exports.row_counts["municipality_profile"]
    assert "population_density" in header and "share_sector_areas_answering" in header
    densities = [row[header.index("population_density")] for row in body]
    assert all("," in value and "." not in value for value in densities if value and not value.isdigit())
    assert any("," in value for value in densities)
    connection = duckdb.connect(str(exports.source), read_only=True)
    try:
        want = connection.execute("select population_density from municipality_profile").fetchall()
    finally:
        connection.close()
    assert sorted(float(value.replace(",", ".")) for value in densities) == sorted(row[0] for row in want)
    assert max(float(value.replace(",", ".")) for value in densities) > 1000  # and no thousands separator
    # Large numbers carry no thousands separator; booleans are 1/0; dates are ISO.
    populations = [row[header.index("population")] for row in body]
    assert all(value.isdigit() for value in populations) and max(map(int, populations)) > 100_000
    activities = list(
        csv.DictReader(io.StringIO((exports.out["csv"] / "case_activities.csv").read_text("utf-8-sig")), delimiter=";")
    )
    assert {row["is_interview"] for row in activities} <= {"0", "1"}
    assert all(len(row["activity_date"]) == 10 and row["activity_date"][4] == "-" for row in activities)
    for item in exports.results["csv"]:
        text = item.path.read_text(encoding="utf-8-sig")
        assert sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=";")) == item.n_rows + 1


def test_parquet_export_has_every_row_and_names_its_source(exports):
    for item in exports.results["parquet"]:
        parquet = pq.ParquetFile(item.path)
        assert parquet.metadata.num_rows == exports.row_counts[item.table]
        metadata = {key.decode(): value.decode() for key, value in parquet.metadata.metadata.items()}
        assert metadata["source"] == SOURCE_LABEL and metadata["table"] == item.table
        parquet.close()
    parquet = pq.ParquetFile(exports.out["parquet"] / "survey_answers_labelled.parquet")
    description = parquet.metadata.metadata[b"description"].decode()
    parquet.close()
    # The sample's file says it is synthetic first, and the export carries that on.
    assert description.startswith(SYNTHETIC_NOTE + "Every answer of every responding head")


def test_xlsx_export_has_a_data_sheet_and_an_about_sheet(exports):
    workbook = openpyxl.load_workbook(exports.out["xlsx"] / "municipality_profile.xlsx", read_only=True)
    try:
        assert workbook.sheetnames == ["municipality_profile", "om"]
        rows = list(workbook["municipality_profile"].iter_rows(values_only=True))
        about = list(workbook["om"].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert len(rows) == exports.row_counts["municipality_profile"] + 1 and rows[0][0] == "municipality_code"
    assert isinstance(rows[1][rows[0].index("population_density")], float)
    about_text = "\n".join(str(cell) for row in about for cell in row if cell is not None)
    assert SOURCE_LABEL in about_text and "Every municipality described for the latest survey wave" in about_text
    assert "share_sector_areas_answering" in about_text
    for item in exports.results["xlsx"]:
        # Sheets and rows read from the workbook's XML: openpyxl takes seconds to open the 20 workbooks,
        # and half a minute to read a sheet of 45,000 rows.
        with zipfile.ZipFile(item.path) as archive:
            sheets = re.findall(rb'<sheet [^>]*name="([^"]*)"', archive.read("xl/workbook.xml"))
            assert [html.unescape(name.decode()) for name in sheets] == [item.table[:31], "om"]
            assert archive.read("xl/worksheets/sheet1.xml").count(b"<row ") == item.n_rows + 1, item.table


def test_readme_and_data_dictionary_describe_the_export(exports):
    for fmt in FORMATS:
        readme = (exports.out[fmt] / "README.txt").read_text(encoding="utf-8")
        assert SOURCE_LABEL in readme and f"Format: {fmt}" in readme and "UTC" in readme
        for item in exports.results[fmt]:
            assert f"{item.path.name}  ({item.n_rows} rows)" in readme
        raw = (exports.out[fmt] / "data_dictionary.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        dictionary = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert {row["table_name"] for row in dictionary} == set(exports.tables)
        assert len(dictionary) == len(exports.dictionary)
    assert "semicolon" in (exports.out["csv"] / "README.txt").read_text(encoding="utf-8")
    assert "value labels" in (exports.out["sav"] / "README.txt").read_text(encoding="utf-8")


# --- no identifying data ----------------------------------------------------------------------------------


def _decoded_values(path: Path) -> set[str]:
    """Every distinct value a reader of the file sees: cells, labels, metadata."""
    suffix = path.suffix
    if suffix == ".parquet":
        connection = duckdb.connect()
        try:
            frame = connection.execute("select * from read_parquet(?)", [str(path)]).df()
        finally:
            connection.close()
        parquet = pq.ParquetFile(path)
        values = {value.decode() for value in parquet.metadata.metadata.values()}
        parquet.close()
    elif suffix in {".sav", ".dta"}:
        reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
        frame, meta = reader(str(path))
        values = {meta.file_label or "", *(label or "" for label in meta.column_labels), *(meta.notes or [])}
        values |= {label for labels in meta.value_labels.values() for label in labels.values()}
    elif suffix == ".xlsx":
        # Every text Excel shows is a <t> element of the workbook's XML (inline or shared strings); a regex
        # reads them in a second where openpyxl takes half a minute for the largest table.
        return {html.unescape(text.decode()) for raw in _raw_texts(path) for text in XML_TEXT.findall(raw)}
    else:  # csv, txt
        return {
            cell
            for row in csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline=""), delimiter=";")
            for cell in row
        }
    return values | {str(value) for column in frame.columns for value in frame[column].dropna().unique()}


def _raw_texts(path: Path) -> list[bytes]:
    """The file's bytes; an xlsx's are its zip members' (the XML Excel reads), not the compressed archive."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name) for name in archive.namelist()]
    return [path.read_bytes()]


def test_no_export_holds_a_name_or_email_of_the_sample(exports):
    manifest = exports.manifest
    assert len(manifest.names) > 100 and len(manifest.emails) > 700
    names = {name.casefold() for name in manifest.names}
    emails = {email.casefold() for email in manifest.emails}
    # Every name ends in one of a few surnames and every e-mail in "@<domain>": search the bytes for those
    # few, and only a file that holds one for every name and e-mail (fast; a full search is the fallback).
    surnames = {name.rsplit(" ", 1)[-1].encode() for name in names}
    domains = {email.rsplit("@", 1)[-1].encode() for email in emails}
    top_levels = {b"." + domain.rsplit(b".", 1)[-1] for domain in domains}  # {b".dk"}
    files = [path for fmt in FORMATS for path in sorted(exports.out[fmt].iterdir())]
    assert len(files) == len(FORMATS) * (len(exports.tables) + 2)
    leaked: list[tuple[str, str]] = []
    decoded: set[str] = set()
    for path in files:
        for raw in _raw_texts(path):
            lowered = raw.lower()
            has_surname = any(surname in lowered for surname in surnames)
            has_domain = any(top in lowered for top in top_levels) and any(b"@" + d in lowered for d in domains)
            if has_surname or has_domain:
                leaked += [(path.name, value) for value in (*names, *emails) if value.encode() in lowered]
        decoded |= _decoded_values(path)
    corpus = "\n".join(decoded).casefold()
    leaked += [("decoded", value) for value in (*names, *emails) if value in corpus]
    assert leaked == []
    assert "@" not in corpus
    # The check can fail: it finds a name planted in the corpus.
    planted = "\n".join([corpus, min(names)])
    assert [value for value in names if value in planted] == [min(names)]


def test_a_table_with_an_identifying_column_or_of_another_schema_is_refused(tmp_path):
    connection = duckdb.connect()
    try:
        connection.execute(
            "create table main.heads (respondent_pseudonym varchar, municipality_name varchar, n integer)"
        )
        connection.execute("insert into main.heads values ('respondent_0a1b', 'København', 3)")
        connection.execute("create table main.contacts (municipality_code integer, respondent_email varchar)")
        connection.execute("insert into main.contacts values (101, 'someone@example.dk')")
        connection.execute("create schema meta")
        connection.execute("create table meta.runs (run_id varchar)")
        with pytest.raises(ExportRefused) as refused:
            export_tables(connection, ["heads", "contacts", "meta.runs"], "csv", tmp_path / "out", SOURCE_LABEL)
    finally:
        connection.close()
    assert set(refused.value.refused) == {"contacts", "meta.runs"}
    assert "respondent_email" in refused.value.refused["contacts"]
    assert "schema main" in refused.value.refused["meta.runs"]
    assert [item.table for item in refused.value.exported] == ["heads"]
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == ["README.txt", "data_dictionary.csv", "heads.csv"]
    assert "example.dk" not in "".join(path.read_text("utf-8-sig") for path in (tmp_path / "out").iterdir())
    assert "Not exported" in (tmp_path / "out" / "README.txt").read_text("utf-8")


def test_xlsx_refuses_a_table_above_the_row_limit_and_exports_the_others(exports, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 101)  # 100 data rows below the header
    out = tmp_path / "xlsx"
    (out).mkdir()
    (out / "municipality_population.xlsx").write_bytes(b"an older export")
    connection = duckdb.connect(str(exports.source), read_only=True)
    try:
        with pytest.raises(ExportRefused) as refused:
            export_tables(connection, ["municipality_profile", "municipality_population"], "xlsx", out, SOURCE_LABEL)
    finally:
        connection.close()
    message = refused.value.refused["municipality_population"]
    n_rows = exports.row_counts["municipality_population"]
    assert n_rows > 100
    assert "municipality_population" in message and str(n_rows) in message
    assert "parquet" in message and "csv" in message
    assert [(item.table, item.n_rows) for item in refused.value.exported] == [("municipality_profile", 98)]
    written = sorted(path.name for path in out.iterdir())
    assert written == ["README.txt", "data_dictionary.csv", "municipality_profile.xlsx"]  # the older file is gone
    assert "municipality_population" in (out / "README.txt").read_text("utf-8").split("Not exported")[1]


def test_an_export_replaces_an_existing_file_and_creates_its_folder(exports, tmp_path):
    out = tmp_path / "new" / "folder"
    connection = duckdb.connect(str(exports.source), read_only=True)
    try:
        export_tables(connection, ["survey_coverage"], "parquet", out, SOURCE_LABEL)
        (out / "survey_coverage.parquet").write_bytes(b"not parquet")
        [item] = export_tables(connection, ["survey_coverage"], "parquet", out, "a second run")
    finally:
        connection.close()
    parquet = pq.ParquetFile(item.path)
    assert parquet.metadata.metadata[b"source"] == b"a second run"
    parquet.close()
    assert sorted(path.name for path in out.iterdir()) == [
        "README.txt",
        "data_dictionary.csv",
        "survey_coverage.parquet",
    ]


def test_shorten_cuts_at_a_word_and_ends_with_an_ellipsis():
    text = "The head's non-response weight, see survey_weights for the method and its cell of region and area."
    short = shorten(text, 40)
    assert short == "The head's non-response weight, see…" and len(short) <= 40
    assert shorten("short enough", 80) == "short enough"
    assert len(shorten("æ" * 100, 80, 60).encode()) <= 60
