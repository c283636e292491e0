"""What every table and column of the published file's `meta` schema holds, in English.

The marts of schema `main` are described in the dbt project (dbt_project/models/marts/*.yml); the
`meta` tables are written by Python (samskab/publish/lineage.py, flows/nightly_refresh.py, samskab/gate/stages.py)
and are described here, once: table name -> (table description, {column name: column description}),
the columns in the order the published file holds them. Descriptions say what a value is, its unit or
code list and when it is null; they never quote a value of a published file.

Times are UTC, written without a time zone. A run is named by its `run_id` (meta.runs.run_id); a
landing file by its path relative to the landing zone (`data_lake/landing/`).
"""

from __future__ import annotations

META_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "runs": (
        "The run that built and published this file: its id, when it ran, the code it ran, the quality "
        "gate's verdict, what its inputs were and the versions of the stack. One row.",
        {
            "run_id": "The run's id: its Prefect flow run id, or for a run outside Prefect an id made from its "
            "UTC start time. Other meta tables name runs by this id.",
            "flow_run_name": "The Prefect flow run's name; the run_id for a run outside Prefect.",
            "started_at": "When the run began checking the raw layer and building the marts, after ingest (UTC).",
            "finished_at": "When the run had passed the quality gate and recorded this lineage, just before it "
            "published the file (UTC).",
            "code_version": "The git commit the platform ran from (12 hex digits, with a -dirty suffix when "
            "tracked files had uncommitted changes), or the package version outside a git checkout.",
            "gate_passed": "Whether the run passed the quality gate; always true in a published file, since a run "
            "that fails a blocking check publishes nothing.",
            "verdict": "The quality gate's verdict in words: the dbt tests passed, the Great Expectations checks "
            "met, warnings, and landing files that need attention.",
            "inputs_fingerprint": "SHA-256 (hex) over the landing zone, the code with its reference data, and the "
            "settings that change what is published; a refresh whose inputs give the same digest has nothing "
            "to do.",
            "inputs_parts": "The three digests behind inputs_fingerprint (landing, code and settings), as "
            "name=digest pairs separated by semicolons.",
            "pseudonym_key_fingerprint": "Which key made every pseudonym in this file (16 hex digits of an HMAC "
            "under the key, never the key): the raw layer is read again whole when the key changes, so a file "
            "never holds pseudonyms of two keys. Files with the same fingerprint can be joined on pseudonyms.",
            "duckdb_version": "Version of the duckdb Python package the run used.",
            "dbt_core_version": "Version of dbt-core the run used.",
            "dbt_duckdb_version": "Version of the dbt-duckdb adapter the run used.",
            "great_expectations_version": "Version of Great Expectations the run used.",
            "prefect_version": "Version of Prefect the run used.",
        },
    ),
    "input_files": (
        "Every landing file whose rows are in the raw layer this file was built from (its current version "
        "in the ingest ledger), with its SHA-256, size and counts. One row per file.",
        {
            "source": "The registered source that read the file (the landing zone folder it is in).",
            "delivery": "The delivery the file belongs to, a folder or file relative to the landing zone.",
            "file": "The file's path relative to the landing zone.",
            "sha256": "SHA-256 of the file's bytes (hex).",
            "n_bytes": "Size of the file in bytes.",
            "n_rows": "Rows loaded from the file into the raw layer.",
            "n_rejected": "Rows or cells of the file that did not reach the raw layer (listed in meta.rejected_rows).",
            "loaded_in_run": "The run_id of the run that loaded this version of the file; an earlier run when the "
            "file is unchanged since.",
            "loaded_at": "When that run loaded it (UTC).",
        },
    ),
    "landing_files": (
        "Every file in the landing zone when the run that built this file looked, and what became of it. "
        "One row per file.",
        {
            "file": "The file's path relative to the landing zone.",
            "source": "The registered source whose folder the file is in; null for a file in no source's folder.",
            "delivery": "The delivery the file belongs to, relative to the landing zone; null for a file that is "
            "part of no delivery read in the run (refused at sight, not recognised, ignored, or under "
            "withdrawn/).",
            "state": "What became of the file in the run: loaded, unchanged (same SHA-256 as already loaded, "
            "skipped), refused, not recognised, withdrawn or ignored.",
            "reason": "Why the file is in that state, in words; empty for a file loaded or unchanged.",
        },
    ),
    "quality_checks": (
        "Every check of the quality gate of the run that published this file: the Great Expectations "
        "suites and the consent gate on the raw layer, the drift suites against the file published before, "
        "and every dbt test, each with its severity and result. Counts only, never a value. One row per check.",
        {
            "stage": "Where the check ran: raw (the raw layer, before dbt), dbt (the dbt build) or drift (the new "
            "file against the file published before it).",
            "suite": "The Great Expectations suite, or the consent gate, that holds the check; for a dbt test, "
            "the dbt build.",
            "table_name": "The table or comparison the suite read; null for a dbt test.",
            "n_rows": "Rows the suite read from that table; null for a dbt test.",
            "check_name": "The check: a Great Expectations expectation type, the consent gate's check, or the "
            "dbt test's name.",
            "column_name": "The column the check is about; null for a check of a whole table and for a dbt test.",
            "severity": "blocking (a failure stops the run and publishes nothing) or warning (a failure is "
            "reported, the file is published).",
            "success": "Whether the check was met.",
            "observed": "What the check found, as counts in words (for a dbt test, its status and failing-row "
            "count); never a cell value.",
            "description": "What the check expects and why, in words; for a dbt test only whether it is a data "
            "test or a unit test.",
        },
    ),
    "row_counts": (
        "The number of rows of every table in schema main of this file, counted when the run built it. "
        "One row per table.",
        {
            "table_name": "A table of schema main.",
            "n_rows": "Its number of rows.",
        },
    ),
    "survey_exports": (
        "Every survey export in the raw layer this file was built from: its format and shape, title and "
        "survey id, the study wave and questionnaire it is mapped to, and its counts. One row per export.",
        {
            "export_id": "The export's name: its folder or file name under survey/ in the landing zone. The "
            "survey_resubmissions mart names records' exports by it.",
            "format": "The export format the reader recognised, as a short key: SurveyXact CSV or workbook, SPSS "
            ".sav or .zsav, or Qualtrics CSV or TSV.",
            "shape": "The export's shape in words as the reader found it (format, separator, encoding).",
            "title": "The survey's title as the export gives it; null when it gives none.",
            "survey_id": "The survey's id as the export gives it (one id in its survey column); null when it "
            "gives none or more than one.",
            "wave_id": "The study wave the export is mapped to by its entry in the survey_exports seed; null for "
            "a questionnaire no entry matches, which is kept in raw and left out of the marts.",
            "questionnaire": "The questionnaire's name from that mapping entry; null when the export is unmapped.",
            "mapping_entry": "The mapping entry that matched the export: its match_delivery pattern, or 'survey id' "
            "and the id; null when the export is unmapped.",
            "matched_by": "How that entry matched: 'name' (the entry names this export exactly), 'pattern' (a "
            "wildcard pattern) or 'survey id'. Only exports matched by name may share a wave's heads with another "
            "export (see survey_wave_holds).",
            "respondent_id_rule": "How the respondents got their ids: the variable the mapping entry names, the "
            "format's own id variable, a variable named like an id with a unique value in every row, or "
            "'numbered in file order' for an export with no id (a new version then replaces it whole).",
            "n_respondents": "Respondent records loaded into the raw layer (rejected rows not counted).",
            "n_variables": "Variables (data columns) of the export.",
            "n_answers": "Answers loaded into the raw layer in long format, one per respondent and variable with "
            "a non-blank answer; identifiers, open text and rejected cells not counted.",
            "status_rule": "How the respondents' statuses were read: from the export's status variables (named), "
            "or derived (completed if finished, partial if any answer, else distributed).",
            "source_file": "The export's data file, relative to the landing zone.",
        },
    ),
    "survey_wave_holds": (
        "Survey exports held back from the wave their mapping entry gives them, in the run that built this "
        "file: they are in the raw layer whole, but no figure of the marts comes from them. One row per "
        "export held back; empty when none is.",
        {
            "export_id": "The export held back (its name under survey/ in the landing zone).",
            "wave_id": "The wave its mapping entry gives it.",
            "reason": "Why, in words: the exports of that wave it shares heads or respondent ids with and which "
            "one counts, or that its questionnaire differs from the wave's; and what to change in the mapping. "
            "Names files and counts, never a value.",
            "source_file": "The export's data file, relative to the landing zone.",
        },
    ),
    "delivery_notes": (
        "What ingest noted about each delivery when it last loaded it, such as identifying columns not "
        "stored or a questionnaire with no mapping entry. One row per note.",
        {
            "source": "The registered source of the delivery.",
            "delivery": "The delivery, relative to the landing zone.",
            "note": "The note, in words; never a cell value.",
            "run_id": "The run that loaded the delivery and made the note.",
            "noted_at": "When the note was made (UTC).",
        },
    ),
    "rejected_rows": (
        "Every landing row or cell that did not reach the raw layer, and every delivery refused whole, with "
        "where it is and why; never its values. One row per rejected row, cell or refused delivery.",
        {
            "source": "The registered source that read the file.",
            "delivery": "The delivery the file belongs to, relative to the landing zone.",
            "file": "The file, relative to the landing zone; the delivery itself when it was refused whole for "
            "an unexpected error.",
            "sheet": "The workbook sheet; null for a file without sheets.",
            "line": "The row in the file or sheet, counting the header as row 1 as a spreadsheet shows it (for "
            "SPSS, the case number); null when the whole file or delivery was refused.",
            "column_name": "The column or variable the reason concerns; null when it concerns no single column.",
            "reason": "Why it was rejected, naming columns and rules, never a cell's value.",
            "run_id": "The run that rejected it.",
            "rejected_at": "When it was rejected (UTC).",
        },
    ),
    "withdrawn_files": (
        "Every landing file whose delivery was taken out of the landing zone, so that its rows left the raw "
        "layer; the ingest ledger keeps them listed. One row per withdrawn version of a file.",
        {
            "source": "The registered source that had read the file.",
            "delivery": "The delivery the file belonged to, relative to the landing zone.",
            "file": "The file's path relative to the landing zone.",
            "sha256": "SHA-256 of the withdrawn version's bytes (hex).",
            "n_rows": "Rows it had loaded into the raw layer.",
            "loaded_in_run": "The run_id of the run that loaded it.",
            "withdrawn_in_run": "The run_id of the run that found it gone and removed its rows.",
            "withdrawn_at": "When its rows were removed (UTC).",
        },
    ),
    "data_dictionary": (
        "Every table and column of this file's schemas main and meta, described in English, with the Danish "
        "question a survey table or column holds and the codebook that labels a column's codes. One row per "
        "table and one per column.",
        {
            "table_schema": "The table's schema: main (the marts) or meta (lineage and documentation).",
            "table_name": "The table.",
            "column_name": "The column; null on the row that describes the table itself.",
            "ordinal_position": "The column's position in its table, counting from 1.",
            "data_type": "The column's DuckDB data type.",
            "description": "What the table or column holds, in English, from the platform's descriptions (for "
            "the marts, the dbt project's).",
            "question_da": "The Danish text of the survey question whose answers the table or column holds; null "
            "where it holds no single question's answers.",
            "codebook": "The codebook whose labels in meta.value_labels the column's codes have; null when the "
            "column holds no codes of a codebook.",
        },
    ),
    "value_labels": (
        "The labels of the codes the marts hold, in Danish and English, by codebook (the columns each "
        "codebook labels are named in meta.data_dictionary.codebook). One row per codebook and code.",
        {
            "codebook": "The codebook the code belongs to.",
            "value": "The code as text, written as the labelled columns store it.",
            "code": "An integer for the code in statistical formats (SPSS, Stata value labels): the value itself "
            "when the codebook's codes are integers, else the integer the codebook assigns to it.",
            "label_da": "The code's label in Danish.",
            "label_en": "The code's label in English; the Danish name where the name has no English form.",
            "sort_order": "The code's position within its codebook, for listing the labels in order.",
        },
    ),
}
