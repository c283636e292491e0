"""What needs a researcher's attention is named with what to do, and stays named until it is put right:
deliveries with too many rows rejected, files in the wrong folder, and real downloads that belong elsewhere.

Ingest alone; the nights that repeat it (exit code 4, status, notice) are in tests/gate/test_refresh_gate.py."""

from __future__ import annotations

import shutil

from samskab.common.settings import Settings
from samskab.ingest.deliveries import ingest_landing_zone
from samskab.ingest.pseudonyms import Pseudonymiser
from tests.lakes import FIXTURES, make_sample_lake

PSEUDONYMISE = Pseudonymiser(b"a" * 32)
REAL = FIXTURES / "real"


def findings(report) -> dict[str, tuple[str, str]]:
    return {finding.path: (finding.state, finding.reason) for finding in report.findings}


def test_a_statbank_answer_newer_than_its_tableinfo_needs_attention_and_names_the_fix(tmp_path):
    """A real FOLK1A download (2008K1-2020K4) beside the tableinfo the sample's connector landed, which
    lists fewer quarters: most rows are rejected, so the delivery needs attention, telling what to do."""
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    shutil.copy(REAL / "statbank" / "FOLK1A_omraade_civilstand_kvartal_labels_da.csv", lake / "landing" / "statbank")
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (rejection,) = report.review.rejections
    assert rejection.delivery == "statbank/FOLK1A_omraade_civilstand_kvartal_labels_da.csv"
    assert rejection.share > settings.attention_rejected_share and rejection.column == "Tid"
    (line,) = [line for line in report.needing_attention() if line.startswith("REJECTED ROWS")]
    assert "is a period that the table's tableinfo does not list" in line
    assert "fetch FOLK1A's tableinfo again (`samskab registry fetch FOLK1A`" in line
    assert f"{rejection.n_rejected:,} of {rejection.n_rejected + rejection.n_loaded:,} rows or cells" in line
    # The next run with nothing new still finds it: the raw layer holds its rejects until it is fixed.
    again = ingest_landing_zone(settings, "r2", PSEUDONYMISE)
    assert {load.state for load in again.loads} == {"unchanged"}
    assert [item.delivery for item in again.review.rejections] == [rejection.delivery]


def test_a_delivery_with_few_rejected_rows_does_not_need_attention(tmp_path):
    lake, _ = make_sample_lake(tmp_path)
    settings = Settings(data_lake=lake)
    answer = lake / "landing" / "statbank" / "FOLK1A_hand.csv"
    answer.write_bytes(
        "\ufeffOMRÅDE;TID;INDHOLD\r\n".encode()
        + b"".join(f"{code};2016K1;{1000 + code}\r\n".encode() for code in (101, 147, 151, 153, 155, 157, 159, 161))
        + "Sønderjylland;2016K1;1\r\n".encode()
    )
    with_limit = settings.replace(attention_rejected_share=0.5)
    report = ingest_landing_zone(with_limit, "r1", PSEUDONYMISE)
    assert report.review.rejections == [] and not any("REJECTED ROWS" in line for line in report.needing_attention())
    strict = ingest_landing_zone(settings.replace(attention_rejected_share=0.05), "r2", PSEUDONYMISE)
    assert [rejection.delivery for rejection in strict.review.rejections] == ["statbank/FOLK1A_hand.csv"]


def test_a_file_in_the_wrong_folder_is_told_where_it_belongs(tmp_path):
    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    landing = lake / "landing"
    (landing / "statbank").mkdir()
    # A classification download named like a Statbank table: told where it goes, not to "declare DKSTAT".
    shutil.copy(REAL / "classifications" / "kommunegrupper_da.csv", landing / "statbank" / "DKSTAT_kommunegrupper.csv")
    shutil.copy(REAL / "qualtrics" / "stats_demo_numeric.csv", landing / "cases" / "stats_demo.csv")
    shutil.copy(REAL / "spss" / "umlauts_de.sav", landing / "umlauts_de.sav")
    shutil.copy(REAL / "statbank" / "FOLK1AM_omraade_maaned_labels_da.csv", landing / "survey" / "FOLK1AM_2024.csv")
    report = ingest_landing_zone(Settings(data_lake=lake), "r1", PSEUDONYMISE)
    found = findings(report)
    state, reason = found["statbank/DKSTAT_kommunegrupper.csv"]
    assert state == "not recognised" and "Statistics Denmark classification download" in reason
    assert "it belongs in classifications/" in reason and "DKSTAT" not in reason.split(":")[0]
    assert found["cases/stats_demo.csv"][0] == "not recognised"
    assert "a Qualtrics export: it belongs in survey/" in found["cases/stats_demo.csv"][1]
    assert "an SPSS data file: it belongs in survey/" in found["umlauts_de.sav"][1]
    assert "a Statbank table: it belongs in statbank/" in found["survey/FOLK1AM_2024.csv"][1]
    lines = "\n".join(report.needing_attention())
    assert all(name in lines for name in found if name.endswith((".csv", ".sav")))
    assert not any(load.delivery.startswith("statbank/DKSTAT") for load in report.loads)


def test_a_classification_download_lands_with_its_hierarchy_and_codes_kept_as_text(tmp_path):
    lake, _ = make_sample_lake(tmp_path, waves=("2016",), fetch_registry=False)
    (lake / "landing" / "classifications").mkdir()
    shutil.copy(REAL / "classifications" / "disco08_da.csv", lake / "landing" / "classifications")
    settings = Settings(data_lake=lake)
    report = ingest_landing_zone(settings, "r1", PSEUDONYMISE)
    (load,) = [load for load in report.loads if load.source == "classifications"]
    assert load.state == "loaded" and load.rows == {"classification_codes": 1171} and load.n_rejected == 0
    import duckdb

    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        levels = connection.execute(
            "select level, count(*) from raw.classification_codes group by 1 order by 1"
        ).fetchall()
        armed = connection.execute(
            "select code, level, parent_code from raw.classification_codes where code like '0%' "
            "order by sequence_number"
        ).fetchall()
        orphans = connection.execute(
            "select count(*) from raw.classification_codes as child where level > 1 and not exists (select 1 "
            "from raw.classification_codes as parent "
            "where parent.code = child.parent_code and parent.level = child.level - 1)"
        ).fetchall()
    finally:
        connection.close()
    assert levels == [(1, 10), (2, 42), (3, 126), (4, 429), (5, 564)]
    assert armed[:4] == [("0", 1, None), ("01", 2, "0"), ("011", 3, "01"), ("0110", 4, "011")]
    assert orphans == [(0,)]
