"""Landing -> raw: find the deliveries in the landing zone, read each with its reader, load the raw layer.

One function per source, each returning what it loaded and rejected, so the flow's tasks stay thin and
the same steps can be run and tested without Prefect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import duckdb

from flows.pseudonyms import Pseudonymiser
from flows.raw_store import LoadSummary, delivery_is_loaded, ensure_raw_schema, load_batch, record_unreadable
from flows.settings import Settings
from flows.sources.case_register import ACTIVITY_FILE, CASE_FILE, read_case_register
from flows.sources.common import LandingFileError, Reject, SourceBatch, sha256_of
from flows.sources.municipalities import reference_resolver
from flows.sources.statbank import read_statbank_population
from flows.sources.surveyxact import EXPORT_FILES, read_surveyxact_export

log = logging.getLogger(__name__)


def open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(settings.warehouse_path))
    ensure_raw_schema(connection)
    return connection


def _ingest_delivery(
    settings: Settings,
    run_id: str,
    source: str,
    delivery: Path,
    files: list[Path],
    read: Callable[[], SourceBatch],
) -> LoadSummary:
    name = delivery.relative_to(settings.landing_dir).as_posix()
    hashes = {path: sha256_of(path) for path in files if path.exists()}
    connection = open_warehouse(settings)
    try:
        if len(hashes) == len(files) and delivery_is_loaded(connection, list(hashes.values())):
            return LoadSummary(source=source, delivery=name, skipped=True)
        try:
            batch = read()
        except LandingFileError as error:
            file = record_unreadable(
                connection, Reject(source, str(files[0]), 1, None, str(error)), run_id, settings.landing_dir
            )
            return LoadSummary(
                source=source,
                delivery=name,
                skipped=False,
                n_rejected=1,
                rejects=[f"{file}, line 1: {error}"],
                notes=[f"{name} could not be read and was not loaded; the rows of its last good version are kept."],
            )
        return load_batch(connection, batch, run_id, settings.landing_dir, name, hashes)
    finally:
        connection.close()


def ingest_survey_exports(settings: Settings, run_id: str, pseudonymise: Pseudonymiser) -> list[LoadSummary]:
    """Load every SurveyXact export folder under landing/survey/."""
    exports = sorted(path for path in (settings.landing_dir / "survey").glob("*") if path.is_dir())
    return [
        _ingest_delivery(
            settings,
            run_id,
            "survey",
            export,
            [export / name for name in EXPORT_FILES],
            lambda export=export: read_surveyxact_export(export, pseudonymise),
        )
        for export in exports
    ]


def ingest_statbank_extracts(settings: Settings, run_id: str) -> list[LoadSummary]:
    """Load every Statbank CSV extract under landing/statbank/."""
    resolver = reference_resolver()
    extracts = sorted((settings.landing_dir / "statbank").glob("*.csv"))
    return [
        _ingest_delivery(
            settings,
            run_id,
            "statbank",
            extract,
            [extract],
            lambda extract=extract: read_statbank_population(extract, resolver),
        )
        for extract in extracts
    ]


def ingest_case_register(settings: Settings, run_id: str, pseudonymise: Pseudonymiser) -> list[LoadSummary]:
    """Load the case register under landing/cases/ (case studies and fieldwork activities)."""
    directory = settings.landing_dir / "cases"
    if not directory.is_dir():
        return []
    files = [directory / CASE_FILE, directory / ACTIVITY_FILE]
    return [
        _ingest_delivery(
            settings, run_id, "cases", directory, files, lambda: read_case_register(directory, pseudonymise)
        )
    ]
