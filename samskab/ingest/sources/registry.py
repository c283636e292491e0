"""The source registry: every kind of delivery the platform reads, declared once.

Ingest walks the landing zone with the sources' folders and recognisers, reads each delivery with its
source's reader, and the raw store creates the tables the sources declare. Adding a source means a
reader module with its `Source` declaration (listed below), its dbt staging folder and its suite.
"""

from __future__ import annotations

from samskab.ingest.sources.case_register import CASES
from samskab.ingest.sources.classifications import CLASSIFICATIONS
from samskab.ingest.sources.common import RawTable, Source
from samskab.ingest.sources.statbank import STATBANK
from samskab.ingest.sources.survey import SURVEY

SOURCES: tuple[Source, ...] = (SURVEY, STATBANK, CASES, CLASSIFICATIONS)


def source_named(name: str) -> Source:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"No source named {name!r} is registered.")


def raw_tables() -> list[RawTable]:
    """Every raw table of every source, in registry order."""
    return [table for source in SOURCES for table in source.tables]


def raw_only_tables() -> frozenset[str]:
    """Tables of free text that may name people: never read by dbt, never published."""
    return frozenset(table.name for table in raw_tables() if table.raw_only)
