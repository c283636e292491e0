"""Read from a DuckDB file without holding it: one read-only connection, closed before returning.

DuckDB caches an open database per path inside a process, so a connection left open would hand later
readers a stale snapshot and block the next writer; every reader of a whole file goes through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd


def read_only_frames(path: Path, queries: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Run each named query against the file at `path`, read-only; returns DataFrames by name."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return {name: connection.execute(sql).df() for name, sql in queries.items()}
    finally:
        connection.close()


def read_only_chunks(path: Path, query: str, vectors: int) -> Iterator[pd.DataFrame]:
    """The rows of `query` against the file at `path`, read-only, as DataFrames of `vectors` DuckDB
    vectors (2,048 rows) each, so a table of millions of rows is never in memory whole. The connection
    is closed when the last chunk is read (or the reader stops)."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        result = connection.execute(query)
        while True:
            chunk = result.fetch_df_chunk(vectors)
            if chunk.empty:
                return
            yield chunk
    finally:
        connection.close()
