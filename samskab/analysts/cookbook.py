"""Keep `docs/cookbook.md` true: every recipe's printed result is what its query prints now.

A recipe is a ```sql fence followed (blank lines allowed) by a ```text fence; its heading is the nearest
`## ` heading above it. A ```sql fence whose first line is `-- not run` is an illustration: it is not run
and has no result. Each query runs on an open read-only DuckDB connection and its result is formatted with
`samskab.analysts.tables.format_table`, the formatter `samskab sql` prints with.

    python -m samskab.analysts.cookbook [--write] [--database PATH]

checks docs/cookbook.md against the published file (exit 1, listing the problems, when a query fails or a
result is stale); `--write` replaces every result fence with the current result first.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from samskab.analysts.tables import format_table

COOKBOOK_PATH = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"
NOT_RUN = "-- not run"
MAX_DIFF_LINES = 24

_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_HEADING = re.compile(r"^##\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Fence:
    """A fenced block: its info word ('sql', 'text', ...), the lines between its fences, where it stands."""

    info: str
    body: tuple[str, ...]
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line (the last line of the text when never closed)
    heading: str


@dataclass(frozen=True)
class Recipe:
    heading: str
    query: str
    result: str  # what the markdown prints now
    sql_line: int  # 1-based line of the sql fence, for messages
    result_start: int  # index of the result's opening fence line
    result_end: int  # index of the result's closing fence line


@dataclass(frozen=True)
class Cookbook:
    lines: tuple[str, ...]
    recipes: tuple[Recipe, ...]
    problems: tuple[str, ...]  # what is wrong with the markdown itself, before anything runs


def _fences(lines: Sequence[str]) -> list[Fence]:
    fences: list[Fence] = []
    heading = "(no heading)"
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = _FENCE_OPEN.match(line)
        if opening is None:
            if match := _HEADING.match(line):
                heading = match["title"]
            index += 1
            continue
        marker = opening["fence"]
        closing = re.compile(rf"^{re.escape(marker[0])}{{{len(marker)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        fences.append(Fence(opening["info"].lower(), tuple(lines[index + 1 : end]), index, end, heading))
        index = end + 1
    return fences


def _is_illustration(fence: Fence) -> bool:
    first = next((line.strip() for line in fence.body if line.strip()), "")
    return first.lower().startswith(NOT_RUN)


def _follows(lines: Sequence[str], first: Fence, second: Fence) -> bool:
    """`second` comes directly after `first`, with nothing but blank lines between them."""
    return all(not line.strip() for line in lines[first.end + 1 : second.start])


def parse(markdown_text: str) -> Cookbook:
    """The recipes of a cookbook, and what is wrong with its layout (a query without a result fence)."""
    lines = tuple(markdown_text.split("\n"))
    fences = _fences(lines)
    recipes: list[Recipe] = []
    problems: list[str] = []
    for position, fence in enumerate(fences):
        if fence.info != "sql":
            continue
        following = fences[position + 1] if position + 1 < len(fences) else None
        has_result = following is not None and following.info == "text" and _follows(lines, fence, following)
        if _is_illustration(fence):
            if has_result:
                problems.append(
                    f"## {fence.heading}: the query at line {fence.start + 1} is marked '{NOT_RUN}' "
                    "but is followed by a result fence; remove the result or the mark."
                )
            continue
        if not has_result or following is None:
            problems.append(
                f"## {fence.heading}: the query at line {fence.start + 1} has no ```text result fence after it; "
                f"add an empty one and run --write, or make its first line '{NOT_RUN}'."
            )
            continue
        recipes.append(
            Recipe(
                heading=fence.heading,
                query="\n".join(fence.body).strip(),
                result="\n".join(following.body),
                sql_line=fence.start + 1,
                result_start=following.start,
                result_end=following.end,
            )
        )
    return Cookbook(lines, tuple(recipes), tuple(problems))


def run_query(connection: duckdb.DuckDBPyConnection, query: str) -> str:
    """The query's result as `samskab sql` prints it."""
    cursor = connection.cursor()
    try:
        cursor.execute(query)
        if cursor.description is None:
            return format_table([], [])
        columns = [column[0] for column in cursor.description]
        return format_table(columns, cursor.fetchall())
    finally:
        cursor.close()


def _error_text(error: duckdb.Error) -> str:
    message = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {message}"


def _diff(written: str, current: str) -> str:
    lines = list(
        difflib.unified_diff(
            written.split("\n"), current.split("\n"), "written in the cookbook", "printed now", n=1, lineterm=""
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join("    " + line for line in lines)


def _results(cookbook: Cookbook, connection: duckdb.DuckDBPyConnection) -> list[tuple[Recipe, str | None, str]]:
    """(recipe, current result or None, problem or '') for every recipe."""
    outcomes: list[tuple[Recipe, str | None, str]] = []
    for recipe in cookbook.recipes:
        try:
            current = run_query(connection, recipe.query)
        except duckdb.Error as error:
            problem = f"## {recipe.heading} (line {recipe.sql_line}): the query fails: {_error_text(error)}"
            outcomes.append((recipe, None, problem))
            continue
        problem = ""
        if current != recipe.result:
            problem = (
                f"## {recipe.heading} (line {recipe.sql_line}): the printed result differs from what the query "
                f"prints now:\n{_diff(recipe.result, current)}"
            )
        outcomes.append((recipe, current, problem))
    return outcomes


def check(markdown_text: str, connection: duckdb.DuckDBPyConnection) -> list[str]:
    """One problem per recipe whose query fails or whose written result is not what it prints now
    (and one per query fence that is neither a recipe nor marked '-- not run')."""
    cookbook = parse(markdown_text)
    return [*cookbook.problems, *(problem for _, _, problem in _results(cookbook, connection) if problem)]


def rewrite(markdown_text: str, connection: duckdb.DuckDBPyConnection) -> str:
    """The markdown with every result fence holding its query's current result. A recipe whose query
    fails keeps its old result (`check` names it)."""
    cookbook = parse(markdown_text)
    lines = list(cookbook.lines)
    # From the last recipe up, so the line numbers of those above stay valid.
    for recipe, current, _ in reversed(_results(cookbook, connection)):
        if current is not None:
            lines[recipe.result_start + 1 : recipe.result_end] = current.split("\n")
    return "\n".join(lines)


def _published_path() -> Path:
    from samskab.common.settings import get_settings

    return get_settings().published_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samskab.analysts.cookbook",
        description="Check that every recipe of docs/cookbook.md prints its written result (--write: update them).",
    )
    parser.add_argument("--write", action="store_true", help="replace every result fence with the current result")
    parser.add_argument("--database", type=Path, help="the DuckDB file to run on (default: the published file)")
    parser.add_argument("--cookbook", type=Path, default=COOKBOOK_PATH, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)

    database = arguments.database or _published_path()
    if not database.exists():
        print(f"No database at {database}: run `samskab refresh` (or `make demo`) first.", file=sys.stderr)
        return 1
    text = arguments.cookbook.read_text(encoding="utf-8")
    connection = duckdb.connect(str(database), read_only=True)
    try:
        if arguments.write:
            updated = rewrite(text, connection)
            if updated != text:
                arguments.cookbook.write_text(updated, encoding="utf-8")
            text = updated
        problems = check(text, connection)
        n_recipes = len(parse(text).recipes)
    finally:
        connection.close()

    if problems:
        print(f"{arguments.cookbook}: {len(problems)} problem(s) among its {n_recipes} recipes ({database}):")
        for problem in problems:
            print(f"- {problem}")
        if not arguments.write:
            print("Run `python -m samskab.analysts.cookbook --write` to print the current results into it.")
        return 1
    verb = "written; every recipe" if arguments.write else "every recipe"
    print(f"{arguments.cookbook}: {verb} of {n_recipes} prints its written result ({database}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
