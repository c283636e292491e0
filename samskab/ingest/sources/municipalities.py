"""Which municipality a delivery means: official codes (3 or 4 digits) and names as people type them.

Everything is taken from the reference seeds: the 98 municipalities, name variants that folding cannot
reach (abbreviations, former names), and the areas that are not municipalities (the whole country,
Christiansø). A name is compared after folding case, Danish letters (æ ø å -> ae oe aa), hyphens,
spaces and punctuation, and the suffixes "Kommune" and "Regionskommune"; a genitive "s" may be added or
dropped ("Københavns Kommune", "Nordfyn"). A text that matches no municipality, or more than one, is
unresolved: the caller quarantines it and never guesses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from samskab.common.reference import seed_rows

MUNICIPALITY = "municipality"
REGION = "region"
UNRESOLVED = "unresolved"

_DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_SUFFIXES = (" regionskommune", " kommune")
_CODE = re.compile(r"^\d{3,4}$")


def fold_place_name(name: str) -> str:
    """One key for the spellings of a place: 'Københavns Kommune', 'Hoeje Taastrup', 'Århus'."""
    folded = " ".join(unicodedata.normalize("NFC", name).casefold().split()).translate(_DANISH_LETTERS)
    for suffix in _SUFFIXES:
        folded = folded.removesuffix(suffix)
    return re.sub(r"[^a-z0-9]", "", folded)


@dataclass(frozen=True)
class Area:
    """What a text names: a municipality (code), another kind of area (level and code), or nothing."""

    level: str
    code: int | None

    @property
    def is_municipality(self) -> bool:
        return self.level == MUNICIPALITY


_UNRESOLVED = Area(UNRESOLVED, None)


class MunicipalityResolver:
    """Resolves codes and names to municipalities, regions and the other areas of the reference seeds."""

    def __init__(
        self,
        municipalities: list[dict[str, str]],
        variants: list[dict[str, str]],
        other_areas: list[dict[str, str]],
    ) -> None:
        self._codes = {int(row["kommunekode"]): Area(MUNICIPALITY, int(row["kommunekode"])) for row in municipalities}
        for row in other_areas:
            self._codes.setdefault(int(row["area_code"]), Area(row["area_level"], int(row["area_code"])))
        exact: dict[str, set[Area]] = {}
        loose: dict[str, set[Area]] = {}
        for row in municipalities:
            area = self._codes[int(row["kommunekode"])]
            key = fold_place_name(row["navn"])
            exact.setdefault(key, set()).add(area)
            for form in (key + "s", key.removesuffix("s")):
                loose.setdefault(form, set()).add(area)
            region = Area(REGION, int(row["regionskode"]))
            exact.setdefault(fold_place_name(row["regionsnavn"]), set()).add(region)
        for row in variants:
            exact.setdefault(fold_place_name(row["name_variant"]), set()).add(self._codes[int(row["kommunekode"])])
        for row in other_areas:
            area = self._codes[int(row["area_code"])]
            for column in ("area_name_da", "area_name_en"):
                exact.setdefault(fold_place_name(row[column]), set()).add(area)
        # An exact spelling wins over a genitive form; a key claimed by two areas resolves to nothing.
        self._names = {key: areas for key, areas in loose.items() if key not in exact}
        self._names.update(exact)

    def resolve(self, text: str | None) -> Area:
        """The area `text` names with certainty, else an unresolved Area."""
        if text is None:
            return _UNRESOLVED
        text = text.strip()
        if not text:
            return _UNRESOLVED
        if _CODE.match(text):
            return self._codes.get(int(text), _UNRESOLVED)
        areas = self._names.get(fold_place_name(text), set())
        return next(iter(areas)) if len(areas) == 1 else _UNRESOLVED


@lru_cache(maxsize=1)
def reference_resolver() -> MunicipalityResolver:
    """The resolver built from the reference seeds (read once per process)."""
    return MunicipalityResolver(
        seed_rows("municipalities"), seed_rows("municipality_name_variants"), seed_rows("other_areas")
    )
