"""Query results as text a person reads in a terminal or in the cookbook.

One formatter for `samskab sql` and `docs/cookbook.md`, so the cookbook's printed results are exactly what
the shell prints. Numbers are right-aligned, text left-aligned, null shown as an empty cell; floats keep
what DuckDB returned, so round in SQL to the precision you mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

NULL = ""


def cell_text(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | Decimal):
        return str(value)
    return str(value).replace("\n", " ")


def counted(n: int, noun: str) -> str:
    """'1 row', '2 rows', '1,250 rows'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: header, a rule of dashes, one line per row (no trailing spaces)."""
    texts = [[cell_text(value) for value in row] for row in rows]
    widths = [len(name) for name in columns]
    for row in texts:
        widths = [max(width, len(text)) for width, text in zip(widths, row, strict=True)]
    numeric = [
        any(_is_number(row[index]) for row in rows)
        and all(row[index] is None or _is_number(row[index]) for row in rows)
        for index in range(len(columns))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(columns)), "  ".join("-" * width for width in widths)]
    out += [line(row) for row in texts]
    return "\n".join(out)
