"""Real exports as researchers have them (tests/fixtures/real/, see its PROVENANCE.md): every one lands.

One end-to-end refresh (the corpus night) takes the whole corpus together, dropped beside the refreshed
sample; each survey export and classification is then read in its raw layer, and each Statbank download
is dropped alone into a fresh landing zone and ingested into a fresh raw store (beside the sample, the
sample's older tableinfo refuses their newer periods). What landed is compared with an independent read
of the same file written here (the csv module, or pyreadstat called directly), never the platform's
readers: respondents, answer cells per variable, variables and value labels for a survey export; records
for a Statbank answer or a classification, to the count. Every non-blank cell of an export is accounted
for: an answer, an open answer (raw only), an identifier turned pseudonym, or a rejected cell named with
its row and reason. Damaged copies (cut, emptied, re-encoded) are refused with a reason.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import math
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone
from samskab.ingest.pseudonyms import Pseudonymiser
from tests.corpus import CORPUS, REAL, Item, deliver
from tests.lakes import copy_lake, published_tables, rewrite_dataset, samskab, told, using_lake, using_setting
from tests.torture import canaries
from tests.torture.canaries import CANARIES, places_holding

PSEUDONYMISE = Pseudonymiser(b"r" * 32)
SURVEY_KINDS = ("surveyxact", "qualtrics", "spss", "stata")


def query(database: Path | duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[tuple]:
    """The rows of `sql` on a connection, or on the file opened read-only for this one query."""
    if isinstance(database, duckdb.DuckDBPyConnection):
        return database.execute(sql, parameters or []).fetchall()
    with duckdb.connect(str(database), read_only=True) as connection:
        return query(connection, sql, parameters)


# --- independent reads ------------------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # only to count: every byte is one character


def records(path: Path, delimiter: str | None = None) -> list[list[str]]:
    text = decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = delimiter or max("\t;,", key=first.count)
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]


@dataclass
class Expected:
    """What an independent read of an export finds."""

    n_respondents: int
    variables: list[str]
    cells: dict[str, list[int]]  # variable -> the file rows (1-based, as the platform numbers them) with a value
    n_value_labels: int


def trimmed_header(header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    while names and not names[-1]:
        names.pop()
    return names


def expected_surveyxact(folder: Path) -> Expected:
    dataset = records(folder / "dataset.csv")
    header = trimmed_header(dataset[0])
    cells = {name: [] for name in header}
    for number, row in enumerate(dataset[1:], start=2):
        for name, cell in zip(header, row, strict=False):
            if cell.strip():
                cells[name].append(number)
    labels = [row for row in records(folder / "labels.csv") if len(row) > 1 and row[0].strip() and row[1].strip()]
    return Expected(len(dataset) - 1, header, cells, len(labels))


def expected_qualtrics(path: Path) -> Expected:
    rows = records(path, "\t" if path.suffix == ".tsv" else None)
    legacy = rows[0][0].strip() == "V1"
    header = trimmed_header(rows[1] if legacy else rows[0])
    if legacy:  # Qualtrics' own columns are V1..V10 in row 1 and named in row 2
        header = [
            text.strip() if tag.strip().startswith("V") and tag.strip()[1:].isdigit() else tag.strip()
            for tag, text in zip(rows[0], rows[1], strict=False)
        ][: len(header)]
    start = 2 if legacy else 3
    positions = Counter()
    names = []
    for tag in header:  # repeated tags are counted apart, by position
        positions[tag] += 1
        names.append(f"{tag}#{positions[tag]}")
    cells = {name: [] for name in names}
    for number, row in enumerate(rows[start:], start=start + 1):
        for name, cell in zip(names, row, strict=False):
            if cell.strip():
                cells[name].append(number)
    return Expected(len(rows) - start, names, cells, 0)


def expected_readstat(path: Path) -> Expected:
    import pyreadstat

    if path.suffix == ".dta":
        frame, meta = pyreadstat.read_dta(str(path), encoding="latin1", user_missing=True)
    elif path.suffix == ".por":
        frame, meta = pyreadstat.read_por(str(path))
    else:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    cells = {}
    for name in frame.columns:
        present = [
            index + 1
            for index, value in enumerate(frame[name].tolist())
            if value is not None
            and not (isinstance(value, float) and math.isnan(value))
            and not (isinstance(value, str) and not value.strip())
        ]
        cells[str(name)] = present
    n_labels = sum(len(labels) for labels in (meta.variable_value_labels or {}).values())
    return Expected(len(frame), [str(name) for name in frame.columns], cells, n_labels)


def expected_export(item: Item) -> Expected:
    if item.kind == "surveyxact":
        return expected_surveyxact(item.path)
    if item.kind == "qualtrics":
        return expected_qualtrics(item.path)
    return expected_readstat(item.path)


# --- what landed ------------------------------------------------------------------------------------------


def landed_cells(database: duckdb.DuckDBPyConnection, export_id: str) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Per variable (by its position in the export) the file rows with a value in raw, and each role."""
    variables = query(
        database,
        "select position, variable_name, role, question_name from raw.survey_variables where export_id = ? "
        "order by position",
        [export_id],
    )
    rows: dict[str, list[int]] = {}
    for table, column in (("survey_answers", "variable_name"), ("survey_open_answers", "variable_name")):
        for variable, source_row in query(
            database, f"select {column}, source_row from raw.{table} where export_id = ?", [export_id]
        ):
            rows.setdefault(variable, []).append(source_row)
    for variable, line in query(
        database,
        "select column_name, line from raw.rejected_rows where delivery = ? and column_name is not null "
        "and reason not like '%row not loaded%'",
        [f"survey/{export_id}"],
    ):
        rows.setdefault(variable, []).append(line)
    identified = query(
        database,
        "select source_row, respondent_name_pseudonym is not null, email_pseudonym is not null "
        "from raw.survey_respondents where export_id = ?",
        [export_id],
    )
    roles = {name: role for _, name, role, _ in variables}
    for _, name, role, _ in variables:
        if role == "respondent_id":
            rows[name] = [row for row, _, _ in identified]
    return {name: sorted(rows.get(name, [])) for _, name, _, _ in variables}, roles


def rows_not_loaded(database: duckdb.DuckDBPyConnection, delivery: str) -> set[int]:
    return {
        line
        for (line,) in query(
            database,
            "select line from raw.rejected_rows where delivery = ? and reason like '%row not loaded%'",
            [delivery],
        )
    }


BESIDE_THE_SAMPLE = [item for item in CORPUS if item.kind != "statbank"]
STATBANK = [item for item in CORPUS if item.kind == "statbank"]


@pytest.mark.parametrize("item", BESIDE_THE_SAMPLE, ids=str)
def test_every_real_export_lands_beside_the_sample_and_matches_an_independent_read(item: Item, corpus_night):
    """Read in the corpus night's raw layer, where every corpus delivery landed beside the sample."""
    with duckdb.connect(str(corpus_night.lake / "warehouse" / "warehouse.duckdb"), read_only=True) as database:
        states = query(database, "select distinct status from raw.ingest_ledger where delivery = ?", [item.name])
        assert states == [("current",)], f"{item.name} is not loaded: {states}"
        notes = [
            note for (note,) in query(database, "select note from raw.delivery_notes where delivery = ?", [item.name])
        ]
        if item.kind in SURVEY_KINDS:
            check_survey_export(item, database, notes)
        else:
            check_classification(item, database)


@pytest.mark.parametrize("item", STATBANK, ids=str)
def test_every_statbank_download_lands_alone_and_matches_an_independent_read(item: Item, tmp_path):
    """Each alone, beside the tableinfo answers it came with: beside the sample, the sample's older FOLK1A
    tableinfo refuses the newer periods of real downloads (said by the corpus night's test)."""
    lake = tmp_path / "data_lake"
    deliver(item, lake / "landing")
    settings = Settings(data_lake=lake)
    report = ingest_landing_zone(settings, "corpus", PSEUDONYMISE)
    states = {load.delivery: load.state for load in report.loads}
    assert states[item.name] == "loaded", [load.describe() for load in report.loads if load.delivery == item.name]
    assert [finding for finding in report.findings if finding.state != "ignored"] == []
    # One connection for the checks' queries (opening the file is most of a small query's cost).
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as database:
        check_statbank_answer(item, database)


def check_survey_export(item: Item, database: duckdb.DuckDBPyConnection, notes: list[str]) -> None:
    export_id = item.path.name
    expected = expected_export(item)
    ((n_respondents, n_variables, wave_id, id_rule),) = query(
        database,
        "select n_respondents, n_variables, wave_id, respondent_id_rule from raw.survey_exports where export_id = ?",
        [export_id],
    )
    not_loaded = rows_not_loaded(database, item.name)
    assert n_respondents + len(not_loaded) == expected.n_respondents
    assert n_variables == len(expected.variables)
    assert wave_id is None  # an unmapped questionnaire lands whole and is reported as unmapped
    assert any("no mapping entry" in note for note in notes)
    if id_rule == "numbered in file order":
        assert any("numbered 1, 2, ... in file order" in note for note in notes)
    if item.kind == "qualtrics" and "Finished#1" in expected.cells:
        # Finished reads 1, True or TRUE (numeric values, choice text, an Excel re-save): completed either way.
        finished = [row for row in records(item.path, "\t" if item.path.suffix == ".tsv" else None)]
        column = trimmed_header(finished[1] if finished[0][0].strip() == "V1" else finished[0]).index("Finished")
        start = 2 if finished[0][0].strip() == "V1" else 3
        yes = sum(row[column].strip().casefold() in ("1", "true") for row in finished[start:])
        ((completed,),) = query(
            database, "select count(*) from raw.survey_respondents where export_id = ? and status_code = 4", [export_id]
        )
        assert completed == yes
    landed, roles = landed_cells(database, export_id)
    assert len(landed) == len(expected.variables)
    # Variables in export order; each variable's non-blank cells, row by row, in rows that were loaded.
    for (name, rows), independent in zip(landed.items(), expected.variables, strict=True):
        wanted = [row for row in expected.cells[independent] if row not in not_loaded]
        if roles[name] in ("identifier", "dropped"):
            assert rows == [], f"{name} is identifying: pseudonymised or not stored, never an answer"
            continue
        assert rows == wanted, f"{name} ({independent}): {len(rows)} cells landed, {len(wanted)} in the file"
    ((n_labels,),) = query(database, "select count(*) from raw.survey_value_labels where export_id = ?", [export_id])
    label_rejects = query(
        database,
        "select count(*) from raw.rejected_rows where delivery = ? and reason like 'a label row needs%'",
        [item.name],
    )[0][0]
    assert n_labels + label_rejects == expected.n_value_labels


def check_statbank_answer(item: Item, database: duckdb.DuckDBPyConnection) -> None:
    file = f"statbank/{item.path.name}"
    ((n_rows,),) = query(database, "select count(*) from raw.statbank_observations where source_file = ?", [file])
    ((n_rejected,),) = query(database, "select count(*) from raw.rejected_rows where file = ?", [file])
    if item.path.suffix == ".json":
        document = json.loads(item.path.read_bytes().decode("utf-8-sig"))
        dataset = document.get("dataset", document)
        sizes = dataset["dimension"].get("size") or dataset["size"]
        assert n_rows + n_rejected == math.prod(sizes)
        assert query(database, "select count(*) from raw.statbank_observations where value is null")[0][0] == sum(
            1 for value in dataset["value"] if value is None
        )
        return
    lines = records(item.path, ";")
    assert n_rows + n_rejected == len(lines) - 1
    if n_rejected == 0:
        time = [name.strip().casefold() for name in lines[0]].index("tid")
        periods = {row[time] for row in lines[1:]}
        assert query(database, "select count(distinct time_code) from raw.statbank_observations")[0][0] == len(periods)


def check_classification(item: Item, database: duckdb.DuckDBPyConnection) -> None:
    lines = records(item.path, ";")
    file = f"classifications/{item.path.name}"
    ((n_rows, n_levels),) = query(
        database, "select count(*), count(distinct level) from raw.classification_codes where source_file = ?", [file]
    )
    ((n_rejected,),) = query(database, "select count(*) from raw.rejected_rows where file = ?", [file])
    assert n_rows + n_rejected == len(lines) - 1
    assert n_levels == len({row[2] for row in lines[1:]})


# --- the cases that refused real exports before: each named ------------------------------------------------

ID_RULES = {
    # A SurveyXact export made without the respondent id: its dataset starts with the first question.
    "surveyxact/privacy_la_en_comma_noid": "numbered in file order",
    "surveyxact/klima_da_utf16_tab": "numbered in file order",
    "surveyxact/laravel_sx_de_latin1_semicolon": "variable responde (surveyxact-csv's respondent id)",
    # SPSS and Stata files whose case id is a variable called id.
    "spss/id_with_missing99_longstring.sav": "variable id (named like an id, every value present and unique)",
    "spss/zlib_compressed_named_sav.sav": "variable id (named like an id, every value present and unique)",
    "stata/notes_id_115.dta": "variable id (named like an id, every value present and unique)",
    "spss/electric_spss6_cp1252.sav": "variable CASEID (named like an id, every value present and unique)",
    # An id variable whose values repeat is no id: the file is numbered, and the variable kept as data.
    "stata/statacar_dup_id_118.dta": "numbered in file order",
    "qualtrics/stats_demo_numeric.csv": "variable ResponseId (qualtrics-csv's respondent id)",
}


@pytest.mark.parametrize("name", sorted(ID_RULES))
def test_the_respondent_id_is_found_by_rule_or_the_respondents_are_numbered(name, corpus_night):
    (item,) = [item for item in CORPUS if str(item) == name]
    export = [item.path.name]
    with duckdb.connect(str(corpus_night.lake / "warehouse" / "warehouse.duckdb"), read_only=True) as database:
        ((rule, n_respondents),) = query(
            database, "select respondent_id_rule, n_respondents from raw.survey_exports where export_id = ?", export
        )
        ids = [
            id_
            for (id_,) in query(
                database, "select respondent_id from raw.survey_respondents where export_id = ?", export
            )
        ]
    assert rule == ID_RULES[name]
    if rule == "numbered in file order":
        assert sorted(ids, key=int) == [str(number) for number in range(1, n_respondents + 1)]


def test_repeated_qualtrics_export_tags_are_told_apart_by_their_import_ids(tmp_path):
    (item,) = [item for item in CORPUS if item.path.name == "qualtricstools_long_exhaustive_repeated_tags.csv"]
    lake = tmp_path / "data_lake"
    deliver(item, lake / "landing")
    settings = Settings(data_lake=lake)
    report = ingest_landing_zone(settings, "tags", PSEUDONYMISE)
    repeated = query(
        settings.warehouse_path,
        "select question_name, count(*), count(distinct variable_name) from raw.survey_variables "
        "where question_name = 'Q44#2_red_pandas_4' group by 1",
    )
    assert repeated == [("Q44#2_red_pandas_4", 5, 5)]  # five columns, one tag, five names (their ImportIds)
    (load,) = report.loads
    assert any("9 export tags name more than one column" in note for note in load.notes)


def test_a_qualtrics_export_re_saved_by_a_danish_excel_lands_like_the_original(tmp_path):
    """Re-created from a real export as Excel in Denmark re-saves it: ';' between fields, Windows-1252,
    CRLF, and dates rewritten day first (14-07-2021 03:29)."""
    original = REAL / "qualtrics" / "stats_demo_numeric.csv"
    rows = list(csv.reader(io.StringIO(original.read_bytes().decode("utf-8-sig"))))
    for row in rows[3:]:
        for index in (0, 1, 6):  # StartDate, EndDate, RecordedDate
            day, time = row[index].split(" ")
            year, month, date = day.split("-")
            row[index] = f"{date}-{month}-{year} {time[:5]}"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    resaved = tmp_path / "excel" / "stats_demo_excel.csv"
    resaved.parent.mkdir()
    resaved.write_bytes(buffer.getvalue().encode("cp1252"))
    counts = {}
    for path in (original, resaved):
        lake = tmp_path / path.stem / "data_lake"
        deliver(Item("qualtrics", path), lake / "landing")
        settings = Settings(data_lake=lake)
        report = ingest_landing_zone(settings, "excel", PSEUDONYMISE)
        assert [load.state for load in report.loads] == ["loaded"], [load.describe() for load in report.loads]
        counts[path.name] = query(
            settings.warehouse_path,
            "select (select count(*) from raw.survey_respondents), (select count(*) from raw.survey_answers), "
            "(select count(*) from raw.survey_open_answers), (select count(*) from raw.rejected_rows), "
            "(select count(started_at) from raw.survey_respondents)",
        )
    assert counts[original.name] == counts[resaved.name]
    assert counts[resaved.name][0][4] == counts[resaved.name][0][0]  # every start time read


# --- damaged copies: refused with a reason, as any delivery ----------------------------------------------


def cut(raw: bytes) -> bytes:
    """The first 60 % of a file, mid-row (an even number of bytes: a UTF-16 file stays decodable)."""
    end = int(len(raw) * 0.6)
    return raw[: end - end % 2]


DAMAGES = [
    ("surveyxact/klima_da_utf16_tab", "dataset.csv", cut, "cut short"),
    ("surveyxact/klima_da_utf16_tab", "structure.csv", lambda raw: b"", "is empty (0 bytes)"),
    (
        "surveyxact/klima_da_utf16_tab",
        "dataset.csv",
        lambda raw: raw[2:],  # the byte-order mark lost
        "looks like UTF-16 without a byte-order mark",
    ),
    ("qualtrics/eur_open_science_survey_2022.csv", None, cut, "cut short"),
    ("qualtrics/eur_open_science_survey_2022.csv", None, lambda raw: b"", "is empty (0 bytes)"),
    (
        "qualtrics/eur_open_science_survey_2022.csv",
        None,
        lambda raw: raw.decode("utf-8").encode("utf-32"),
        "is UTF-32, an unexpected encoding",
    ),
    ("spss/electric_spss6_cp1252.sav", None, cut, "is not a readable SPSS .sav file"),
    ("spss/sample_dates.zsav", None, lambda raw: b"", "is empty (0 bytes)"),
    ("stata/trening_no_118.dta", None, cut, "is not a readable Stata .dta file"),
    ("classifications/disco08_da.csv", None, cut, "cut short"),
    ("statbank/STRAF42_herkomst_2023_en.csv", None, lambda raw: b"", "is empty (0 bytes)"),
]


@pytest.mark.parametrize(("name", "file", "damage", "reason"), DAMAGES, ids=[f"{d[0]}-{d[3]}" for d in DAMAGES])
def test_a_damaged_copy_of_a_real_export_is_refused_with_its_reason(name, file, damage, reason, tmp_path):
    (item,) = [item for item in CORPUS if str(item) == name]
    landing = tmp_path / "data_lake" / "landing"
    deliver(item, landing)
    target = landing / item.name / file if file else landing / item.name
    target.write_bytes(damage(target.read_bytes()))
    report = ingest_landing_zone(Settings(data_lake=tmp_path / "data_lake"), "damaged", PSEUDONYMISE)
    (load,) = [load for load in report.loads if load.delivery == item.name]
    assert load.state == "refused" and reason in load.reason, load.reason
    assert load.reason.startswith(f"{item.name}{'/' + file if file else ''}")


def test_a_danish_export_re_encoded_for_dos_or_mac_lands_with_the_same_letters(tmp_path):
    """Windows-1252, cp850 and Mac Roman put æ, ø and å on different bytes: each is told from the others."""
    folder = REAL / "surveyxact" / "klima_da_latin1_comma_lf"
    labels = {}
    for codec in ("cp1252", "cp850", "mac_roman"):
        landing = tmp_path / codec / "data_lake" / "landing"
        target = landing / "survey" / "klima"
        target.mkdir(parents=True)
        for file in folder.iterdir():
            (target / file.name).write_bytes(file.read_bytes().decode("cp1252").encode(codec))
        settings = Settings(data_lake=landing.parent)
        report = ingest_landing_zone(settings, codec, PSEUDONYMISE)
        assert [load.state for load in report.loads] == ["loaded"], [load.describe() for load in report.loads]
        labels[codec] = query(
            settings.warehouse_path, "select variable_name, value, label from raw.survey_value_labels order by all"
        )
    assert labels["cp850"] == labels["cp1252"] == labels["mac_roman"]
    assert any("ø" in label or "æ" in label or "å" in label for _, _, label in labels["cp1252"])


# --- the whole corpus in one nightly refresh ----------------------------------------------------------------


CORPUS_KEY = "a-corpus-test-key-that-is-not-in-any-log-0123456789"
# Planted too: text that would be markup on a page (issue 22, hostile content), in a case's title, a
# question's text, and the name of a delivery's folder that would also end a SQL string and a Markdown table.
HOSTILE = {"script": '<script>alert("samskab")</script>', "image": "<img src=x onerror=alert(1)>"}
HOSTILE_FOLDER = f"{HOSTILE['image']} '; drop table raw.ingest_ledger; -- |[x](javascript:alert(1))"
HOSTILE_EXPORT = REAL / "surveyxact" / "laravel_sx_de_latin1_semicolon"
BEFORE_MARTS = ["survey_coverage", "partner_collaboration", "motives", "case_fieldwork", "municipality_profile"]
CONCEPT_MARTS = ["collaboration_focus", "partner_collaboration", "motives", "collaboration_phases", "barriers"]


@dataclass
class CorpusNight:
    lake: Path
    before: dict[str, pd.DataFrame]
    exit_code: int
    out: str

    @property
    def published(self) -> Path:
        return self.lake / "published" / "analytics.duckdb"


# For the session (not the module): `make torture` (--dist loadgroup) runs only this module's canary and
# markup searches, on one worker but with other modules' tests between them, so a module fixture would be
# built twice.
@pytest.fixture(scope="session")
def corpus_night(refreshed_lake, tmp_path_factory) -> CorpusNight:
    """One `samskab refresh` of the refreshed sample with the whole corpus dropped beside it, and a second
    wave delivered as survey/samskabelse_2021, which matches the 2016 entry's pattern samskabelse_* (a copy
    of the 2016 export in which everybody answers q1 "no"). Real exports are not the embedded sample, so
    the refresh runs with a real pseudonym key."""
    from samskab.cli import main

    lake = copy_lake(refreshed_lake[0], tmp_path_factory.mktemp("corpus"))
    published = lake / "published" / "analytics.duckdb"
    before = published_tables(published, sorted({*BEFORE_MARTS, *CONCEPT_MARTS}))
    for item in CORPUS:
        deliver(item, lake / "landing")
    survey = lake / "landing" / "survey"
    shutil.copytree(survey / "samskabelse_2016", survey / "samskabelse_2021")

    def everybody_says_no_to_q1(header, rows):
        for row in rows:
            if row[header.index("q1")]:
                row[header.index("q1")] = "2"
        return canaries.plant_in_survey_rows(header, rows)  # none may leave the raw layer

    rewrite_dataset(survey / "samskabelse_2021", everybody_says_no_to_q1)
    register = lake / "landing" / "cases" / "case_register.xlsx"
    workbook = openpyxl.load_workbook(register)
    canaries.plant_in_case_register(workbook)
    cases = workbook["Cases"]
    title = [cell.value for cell in cases[1]].index("indsats") + 1
    cases.cell(row=2, column=title).value = f"{HOSTILE['script']} & Co"
    workbook.save(register)
    hostile = shutil.copytree(HOSTILE_EXPORT, survey / HOSTILE_FOLDER)
    structure = (hostile / "structure.csv").read_bytes().decode("latin-1")
    (hostile / "structure.csv").write_bytes(
        structure.replace('"Umfrage"', '"{}"'.format(HOSTILE["script"].replace('"', '""')), 1).encode("latin-1")
    )
    with using_lake(lake), using_setting("SAMSKAB_PSEUDONYM_KEY", CORPUS_KEY), told() as (out, _lines):
        code = main(["refresh"])
    return CorpusNight(lake, before, code, out.getvalue())


def rows_in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in a fixed order (a table has no row order)."""
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.end_to_end
def test_the_whole_corpus_lands_in_one_refresh_beside_the_sample(corpus_night):
    """Every corpus file dropped beside the embedded sample: each ends loaded, the unmapped exports leave the
    survey and case marts exactly as they were, the classifications are published, and what needs
    attention (FOLK1A downloads older than the tableinfo the connector landed) is named with the fix."""
    from samskab.cli import EXIT_NEEDS_ATTENTION

    out, published = corpus_night.out, corpus_night.published
    assert corpus_night.exit_code == EXIT_NEEDS_ATTENTION, out
    assert "REJECTED ROWS statbank/FOLK1A_" in out and "fetch FOLK1A's tableinfo again" in out

    meta = published_tables(
        published, ["meta.landing_files", "meta.input_files", "meta.survey_exports", "classification_codes"]
    )
    states = meta["meta.landing_files"].set_index("file")["state"].to_dict()
    corpus_files = {
        f"{item.folder}/{path.relative_to(item.path.parent).as_posix()}": path
        for item in CORPUS
        for path in ([*sorted(item.path.iterdir())] if item.path.is_dir() else [item.path])
    }
    assert {file: states.get(file) for file in corpus_files} == dict.fromkeys(corpus_files, "loaded")
    # The published lineage names every file with the sha256 of its bytes.
    hashes = meta["meta.input_files"].set_index("file")["sha256"].to_dict()
    assert {file: hashes.get(file) for file in corpus_files} == {
        file: hashlib.sha256(path.read_bytes()).hexdigest() for file, path in corpus_files.items()
    }
    exports = meta["meta.survey_exports"].set_index("export_id")
    corpus_exports = [item.path.name for item in CORPUS if item.kind in SURVEY_KINDS]
    assert exports.loc[corpus_exports, "wave_id"].isna().all()
    assert set(meta["classification_codes"]["classification"]) == {
        item.path.stem for item in CORPUS if item.kind == "classifications"
    }
    after = published_tables(published, BEFORE_MARTS)
    for mart in BEFORE_MARTS:
        ordered = [rows_in_order(frame) for frame in (after[mart], corpus_night.before[mart])]
        if mart == "municipality_profile":  # the real FOLK1A downloads are newer answers of the population
            ordered = [frame.drop(columns=["population", "population_density"], errors="ignore") for frame in ordered]
        if mart == "case_fieldwork":  # a case's title is hostile text tonight
            ordered = [frame.drop(columns=["effort_title"]) for frame in ordered]
        pd.testing.assert_frame_equal(*ordered, obj=mart)


@pytest.mark.end_to_end
def test_a_new_wave_dropped_under_the_first_waves_pattern_is_held_back_and_the_figures_stay(corpus_night, capsys):
    """A second wave delivered as survey/samskabelse_2021 matches the 2016 entry's pattern samskabelse_*.
    It once replaced the 2016 answers in the published figures through the resubmission rule; now it is
    held back, named as needing attention, and every figure of 2016 stays as it was."""
    from samskab.cli import main

    assert "HELD BACK survey/samskabelse_2021: kept out of wave 2016" in corpus_night.out
    after = published_tables(corpus_night.published, CONCEPT_MARTS)
    for mart in CONCEPT_MARTS:
        for wave in ("2016", "2019"):
            now, then = (frame[frame["wave_id"] == wave] for frame in (after[mart], corpus_night.before[mart]))
            pd.testing.assert_frame_equal(rows_in_order(now), rows_in_order(then), obj=f"{mart}, wave {wave}")
    holds = published_tables(corpus_night.published, ["meta.survey_wave_holds"])["meta.survey_wave_holds"]
    assert holds[["export_id", "wave_id"]].values.tolist() == [["samskabelse_2021", "2016"]]
    exports = published_tables(corpus_night.published, ["meta.survey_exports"])["meta.survey_exports"]
    assert exports.set_index("export_id").loc["samskabelse_2021", "matched_by"] == "pattern"
    with using_lake(corpus_night.lake):
        main(["status"])
    assert "HELD BACK survey/samskabelse_2021" in capsys.readouterr().out


@pytest.mark.end_to_end
@pytest.mark.torture
@pytest.mark.xdist_group("corpus night")  # make torture (--dist loadgroup) builds the night once
def test_hostile_text_from_the_landing_zone_reaches_no_page_as_markup(corpus_night):
    """A case title holding a script, a question text holding one, and a delivery folder named with an image
    tag, a quote that would end a SQL string and Markdown's table and link marks: the export lands under its
    name, the SQL in the name does nothing, the data keep the text as typed, and no page shows it as markup:
    the report, the Great Expectations and dbt pages (HTML), and the run's Prefect artifacts (Markdown, and
    the tables the UI draws) hold it escaped or not at all."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from tests.lakes import last_flow_run
    from tests.torture import tally

    lake = corpus_night.lake
    states = published_tables(corpus_night.published, ["meta.landing_files"])["meta.landing_files"]
    hostile_files = states[states["file"].str.startswith(f"survey/{HOSTILE_FOLDER}/")]
    assert sorted(hostile_files["state"]) == ["loaded"] * 3
    assert query(lake / "warehouse" / "warehouse.duckdb", "select count(*) from raw.ingest_ledger")[0][0] > 0
    fieldwork = published_tables(corpus_night.published, ["case_fieldwork"])["case_fieldwork"]
    assert f"{HOSTILE['script']} & Co" in set(fieldwork["effort_title"])  # kept as typed, in the data

    pages = sorted((lake / "published" / "docs").rglob("*.html"))
    report = lake / "published" / "docs" / "report.html"
    assert report in pages and len(pages) > 3
    assert html.escape(HOSTILE["script"]) in report.read_text(encoding="utf-8")  # shown, as text
    flow_run = last_flow_run(lake)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
    markdown = [artifact for artifact in artifacts if artifact.type == "markdown"]
    shown = "\n".join(str(artifact.data) for artifact in markdown)
    assert html.escape(HOSTILE["image"], quote=False) in shown  # the folder is named, escaped
    injected = [
        (str(page.relative_to(lake)), what)
        for page in pages
        for what, marker in HOSTILE.items()
        if marker in page.read_text(encoding="utf-8", errors="replace")
    ]
    injected += [
        (f"artifact {artifact.key}", what)
        for artifact in markdown
        for what, marker in HOSTILE.items()
        if marker in str(artifact.data)
    ]
    injected += [
        ("flow run state", what) for what, marker in HOSTILE.items() if marker in (flow_run.state.message or "")
    ]
    tally.record("HTML injections", "a published refresh", "checked", n=len(pages) + len(markdown) + 1)
    tally.record("HTML injections", "a published refresh", "injected", n=len(injected))
    assert injected == []


def test_question_texts_with_line_breaks_read_as_one_export(tmp_path):
    """A structure file whose quoted question texts hold line breaks (SurveyXact keeps them as typed)."""
    source = REAL / "surveyxact" / "laravel_sx_de_latin1_semicolon"
    landing = tmp_path / "data_lake" / "landing"
    export = landing / "survey" / "broken_lines"
    shutil.copytree(source, export)
    structure = export / "structure.csv"
    text = structure.read_bytes().decode("latin-1")
    lines = text.split("\r\n")
    for number in (1, 5, 9):  # a line break inside the question text (field 5, quoted) of three variables
        fields = lines[number].split(";")
        assert fields[4].startswith('"') and fields[4].endswith('"')
        fields[4] = fields[4][:-1] + '\r\n(fortsat)"'
        lines[number] = ";".join(fields)
    structure.write_bytes("\r\n".join(lines).encode("latin-1"))
    settings = Settings(data_lake=landing.parent)
    report = ingest_landing_zone(settings, "lines", PSEUDONYMISE)
    assert [load.state for load in report.loads] == ["loaded"], [load.describe() for load in report.loads]
    expected = expected_surveyxact(source)
    assert query(settings.warehouse_path, "select count(*) from raw.survey_variables")[0][0] == len(expected.variables)
    continued = query(
        settings.warehouse_path, "select count(*) from raw.survey_variables where variable_label like '%(fortsat)%'"
    )
    assert continued == [(3,)]


# --- canaries: nothing planted leaves the raw layer ----------------------------------------------------------


@pytest.mark.end_to_end
@pytest.mark.torture
@pytest.mark.xdist_group("corpus night")
def test_no_canary_leaves_the_raw_layer_and_the_key_is_written_nowhere(corpus_night, tmp_path):
    """A name, an e-mail, a CPR number, a phone number and an informant's name planted in the corpus night's
    deliveries: after the refresh (published, with refused files and held exports beside it), none is in the
    published file, its snapshots, the docs and report, dbt's target and logs, the run journal, the notices,
    Prefect's database, an export of every table or what the commands printed; the pseudonym key is in none
    of those nor in raw."""
    lake = corpus_night.lake
    warehouse = lake / "warehouse"
    raw_files = canaries.raw_layer(lake)
    outside_raw = canaries.outside_raw(lake)
    prefect_files = canaries.prefect_files()
    assert any(path.suffix == ".db" for path in prefect_files)
    assert any(path.is_relative_to(lake / "published" / "snapshots") for path in outside_raw)
    assert any(path.is_relative_to(warehouse / "dbt_target") for path in outside_raw)

    # The search sees them where they were planted (a UTF-16 export) and in a DuckDB file's values, and
    # they reached raw as pseudonyms.
    with duckdb.connect(str(tmp_path / "leak.duckdb")) as leak:
        leak.execute("create table answers as select ? as answer", [f"ring {CANARIES['phone']}"])
    assert places_holding([tmp_path / "leak.duckdb"], CANARIES) == [(str(tmp_path / "leak.duckdb"), "phone")]
    planted = places_holding([lake / "landing" / "survey" / "samskabelse_2021" / "dataset.csv"], CANARIES)
    assert {what for _, what in planted} == {"name", "e-mail", "CPR number", "phone"}
    pseudonymise = Pseudonymiser(CORPUS_KEY.encode())
    respondents = query(
        warehouse / "warehouse.duckdb", "select email_pseudonym, respondent_name_pseudonym from raw.survey_respondents"
    )
    assert (pseudonymise("email", CANARIES["e-mail"]), pseudonymise("name", CANARIES["name"])) in respondents

    # And an analyst exports every table.
    exported = tmp_path / "exports"
    done = samskab(lake, "export", "--all", "--format", "csv", "--to", str(exported))
    assert done.returncode == 0, done.stderr
    exports = canaries.files_under(exported)
    assert len(exports) > 20

    (printed := lake.parent / "printed.txt").write_text(corpus_night.out + done.stdout + done.stderr, encoding="utf-8")
    searched = [*outside_raw, *prefect_files, *exports, printed]
    hits = places_holding(searched, CANARIES)
    canaries.tally_search("a published refresh and its exports", searched, hits)
    assert hits == []
    key = {"pseudonym key": CORPUS_KEY}
    assert (
        places_holding(
            [*outside_raw, *sorted(raw_files & set(canaries.files_under(lake))), *prefect_files, printed], key
        )
        == []
    )
