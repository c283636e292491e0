"""Reference data, read from the dbt seeds: the one place every code list of the study lives.

Municipalities, sector areas, answer scales, respondent statuses, activity kinds, informant roles and
the rest are dbt seeds under `dbt_project/seeds/`, with their Danish labels. dbt joins them; readers,
the quality suites, the sample generator and the tests take their code sets from here, so no code list
is typed out a second time anywhere in the platform.
"""

from __future__ import annotations

import csv
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from samskab.common.settings import get_settings


def seeds_dir() -> Path:
    return get_settings().dbt_project_dir / "seeds"


def _read_seed(path: Path) -> tuple[dict[str, str], ...]:
    if not path.is_file():
        raise FileNotFoundError(f"There is no reference seed {path.name} in the dbt project's seeds folder.")
    stat = path.stat()
    # Keyed on the file's size and time, so an edited seed (a new mapping entry) is read again.
    return _read_seed_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_seed_version(path: Path, mtime_ns: int, size: int) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def seed_rows(name: str) -> list[dict[str, str]]:
    """The rows of seed `name` (file `<name>.csv`), every cell as text, in file order."""
    return [dict(row) for row in _read_seed(seeds_dir() / f"{name}.csv")]


def _typed(values: list[str]) -> list[Any]:
    """Whole numbers as int and true/false as bool when every value of the column reads so, else text."""
    if values and all(value.lstrip("-").isdigit() for value in values):
        return [int(value) for value in values]
    if values and all(value in ("true", "false") for value in values):
        return [value == "true" for value in values]
    return values


def seed_column(name: str, column: str) -> list[Any]:
    """The values of one column of a seed, typed (int, bool or text), in file order."""
    rows = seed_rows(name)
    if rows and column not in rows[0]:
        raise KeyError(f"The reference seed {name}.csv has no column {column!r}.")
    return _typed([row[column] for row in rows])


def seed_mapping(name: str, key: str, value: str) -> dict[Any, Any]:
    """One column of a seed keyed by another, both typed: e.g. sector area code -> Danish name."""
    return dict(zip(seed_column(name, key), seed_column(name, value), strict=True))


def seeds_digest(names: tuple[str, ...]) -> str:
    """A digest of the named seeds' bytes: it changes whenever one of them is edited."""
    digest = hashlib.sha256()
    for name in names:
        path = seeds_dir() / f"{name}.csv"
        digest.update(name.encode("utf-8") + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()[:16]


def yes_no(text: str) -> bool | None:
    """What a yes/no word means (seed yes_no_words: "ja", "nej", "True", "optaget", ...); None when the
    text is empty. Raises KeyError for a word the seed does not hold."""
    folded = " ".join(text.casefold().split())
    if not folded:
        return None
    words = {row["word"]: row["is_yes"] == "true" for row in seed_rows("yes_no_words")}
    return words[folded]


def yes_words() -> list[str]:
    """Every word that says yes (seed yes_no_words), lower case."""
    return [row["word"] for row in seed_rows("yes_no_words") if row["is_yes"] == "true"]
