"""docs/cookbook.md: every recipe runs on the published file of the sample and prints its written result.

The cookbook's results were printed from a file built from the embedded sample; the session's refresh of
the same sample must print every one of them again, character for character. A broken query and a stale
result are each named by the recipe's heading.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from samskab.analysts import cookbook

pytestmark = pytest.mark.end_to_end

MIN_RECIPES = 12


@pytest.fixture(scope="module")
def published(refreshed_lake) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published file of the session's refresh of the sample."""
    lake, _, _ = refreshed_lake
    connection = duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def test_every_recipe_prints_its_written_result(published: duckdb.DuckDBPyConnection) -> None:
    text = cookbook.COOKBOOK_PATH.read_text(encoding="utf-8")
    recipes = cookbook.parse(text).recipes
    assert len(recipes) >= MIN_RECIPES, f"docs/cookbook.md has {len(recipes)} recipes, at least {MIN_RECIPES} expected"
    assert len({recipe.heading for recipe in recipes}) == len(recipes), "two recipes share a heading"

    problems = cookbook.check(text, published)

    assert not problems, (
        f"{len(problems)} problem(s) in docs/cookbook.md:\n"
        + "\n".join(problems)
        + "\nRun `python -m samskab.analysts.cookbook --write` (on the sample's published file) to print the"
        " current results into it, and read the differences before you commit them."
    )


BROKEN = """# A cookbook

## How many municipalities are there?

```sql
select count(*) as n_municipalities from municipality_profile
```

```text
n_municipalities
----------------
              98
```

## Which column does not exist?

Text between the heading and the query.

```sql
select no_such_column from municipality_profile
```

```text
no_such_column
--------------
```

## What is only shown?

```sql
-- not run: illustration only
select * from a_table_that_does_not_exist
```
"""


def test_a_broken_query_is_reported_by_its_heading(published: duckdb.DuckDBPyConnection) -> None:
    problems = cookbook.check(BROKEN, published)

    assert len(problems) == 1, problems
    assert "## Which column does not exist?" in problems[0]
    assert "BinderException" in problems[0]
    assert "no_such_column" in problems[0]
    # The rewrite leaves a failing recipe's result as it was and updates nothing else.
    assert cookbook.rewrite(BROKEN, published) == BROKEN


STALE = """## Which regions are there?

```sql
select region_code, region_name
from municipality_profile
group by region_code, region_name
order by region_code
```


```text
region_code  region_name
-----------  ------------------
       1081  Region Nordjylland
       1082  Region Midtjylland
       1083  Region Syddanmark
       1084  Region Hovedstaden
       1085  Region Sjaelland
```

## How many municipalities are there?

```sql
select count(*) as n_municipalities from municipality_profile
```

```text
n_municipalities
----------------
              99
```
"""


def test_a_stale_result_is_reported_with_the_difference(published: duckdb.DuckDBPyConnection) -> None:
    problems = cookbook.check(STALE, published)

    assert len(problems) == 2, problems
    regions, count = problems
    assert regions.startswith("## Which regions are there?")
    assert "-       1085  Region Sjaelland" in regions
    assert "+       1085  Region Sjælland" in regions
    assert "1081" not in regions  # the diff shows what changed, not the whole table
    assert count.startswith("## How many municipalities are there?")
    assert "-              99" in count
    assert "+              98" in count

    rewritten = cookbook.rewrite(STALE, published)

    assert cookbook.check(rewritten, published) == []
    assert "Region Sjælland" in rewritten
    assert "              98\n```" in rewritten
    # Only the result fences change: the queries, the headings and the blank lines stay.
    assert rewritten.replace("Sjælland", "Sjaelland").replace("  98\n", "  99\n") == STALE


def test_a_query_without_a_result_fence_is_reported(published: duckdb.DuckDBPyConnection) -> None:
    text = "## Forgotten result\n\n```sql\nselect 1 as one\n```\n\nSome prose.\n"

    problems = cookbook.check(text, published)

    assert len(problems) == 1
    assert "## Forgotten result" in problems[0]
    assert "-- not run" in problems[0]


def test_the_command_checks_and_writes(published: duckdb.DuckDBPyConnection, refreshed_lake, tmp_path: Path) -> None:
    lake, _, _ = refreshed_lake
    database = lake / "published" / "analytics.duckdb"
    stale = tmp_path / "cookbook.md"
    stale.write_text(STALE, encoding="utf-8")

    assert cookbook.main(["--database", str(database), "--cookbook", str(stale)]) == 1
    assert stale.read_text(encoding="utf-8") == STALE
    assert cookbook.main(["--write", "--database", str(database), "--cookbook", str(stale)]) == 0
    assert cookbook.main(["--database", str(database), "--cookbook", str(stale)]) == 0
    assert cookbook.check(stale.read_text(encoding="utf-8"), published) == []


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readmes_python_snippet_runs_as_written_in_the_projects_python(refreshed_lake, tmp_path) -> None:
    """README, "Every morning": the snippet pasted into the project's Python (the one the tests run in) in
    the project's folder, where the data lake is `data_lake/`, runs and reads the marts it names."""
    section = README.read_text(encoding="utf-8").split("\n## Every morning\n", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/python" in section.split("```python", 1)[0]  # the README says which Python
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    lake, _, _ = refreshed_lake
    (tmp_path / "data_lake" / "published").mkdir(parents=True)
    shutil.copy(lake / "published" / "analytics.duckdb", tmp_path / "data_lake" / "published")
    ran = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and not ran.stderr, ran.stderr[-2000:]


def test_the_readmes_queries_answer_with_the_rows_they_mean(refreshed_lake) -> None:
    """README, "Every morning": each `samskab sql "..."` example runs on the refreshed sample and gives rows;
    a share of a multiple-choice mart is of the answer 'selected', never its complement."""
    section = README.read_text(encoding="utf-8").split("\n## Every morning\n", 1)[1].split("\n## ", 1)[0]
    queries = re.findall(r'^samskab sql (?:--csv )?"([^"]+)"', section, re.MULTILINE)
    queries = [query for query in queries if query != "select ..."]
    assert len(queries) >= 2
    lake, _, _ = refreshed_lake
    with duckdb.connect(str(lake / "published" / "analytics.duckdb"), read_only=True) as connection:
        for query in queries:
            cursor = connection.execute(query)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            assert rows, query
            assert all(row.get("answer_category", "selected") != "not_selected" for row in rows), query
            if "from motives" in query:
                assert {row["wave_id"] for row in rows} == {"2016", "2019"} and len(rows) == 14, query
