"""Where a file that its folder's source does not take belongs, judged by its name and its first bytes.

A researcher who drops a file in the wrong folder is told where it goes ("it looks like a Statistics
Denmark classification download: it belongs in classifications/"), not only that it was not read. Only
the first 64 KB are looked at; nothing of the content is ever quoted, only what kind of file it is.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 1 << 16
STATISTICAL_FILES = {
    ".sav": "an SPSS data file",
    ".zsav": "a compressed SPSS data file",
    ".por": "an SPSS portable file",
    ".dta": "a Stata data file",
}


@dataclass(frozen=True)
class Belonging:
    """What a file looks like, and the landing folder whose source reads that kind."""

    folder: str
    what: str
    how: str = ""  # how it is delivered there, when that is more than dropping it in

    def advice(self) -> str:
        return f"it looks like {self.what}: it belongs in {self.folder}/{f' ({self.how})' if self.how else ''}"


def _head_text(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
        return head[2 : len(head) - (len(head) % 2)].decode(codec, errors="ignore")
    return head.decode("utf-8-sig", errors="ignore") if b"\x00" not in head[:4096] else None


def _first_line(text: str) -> str:
    return text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""


def _fields(line: str) -> list[str]:
    separator = max(("\t", ";", ","), key=line.count)
    return [field.strip().strip('"').strip().casefold() for field in line.split(separator)]


def _workbook_sheets(path: Path) -> list[str]:
    """The sheet names of an .xlsx workbook, from its zip directory (no cell is read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("xl/workbook.xml").decode("utf-8", errors="ignore")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    return [name.casefold() for name in re.findall(r'<sheet\b[^>]*\bname="([^"]*)"', text)]


def belongs_in(path: Path) -> Belonging | None:
    """The landing folder whose source reads a file like this one, or None when it is no kind we know."""
    suffix = path.suffix.casefold()
    if suffix in STATISTICAL_FILES:
        return Belonging("survey", STATISTICAL_FILES[suffix])
    if suffix == ".xlsx":
        sheets = set(_workbook_sheets(path))
        if {"dataset", "structure", "labels"} <= sheets or any(name.startswith("dataset(") for name in sheets):
            return Belonging("survey", "a SurveyXact workbook")
        if sheets & {"cases", "aktiviteter", "activities", "informanter", "informants"}:
            return Belonging("cases", "the case register workbook")
        return None
    if suffix not in (".csv", ".tsv", ".txt", ".json"):
        return None
    text = _head_text(path)
    if not text:
        return None
    first = _first_line(text)
    fields = _fields(first)
    if suffix == ".json":
        return _json_kind(text)
    if fields[:3] in (["sekvens", "kode", "niveau"], ["sequence", "code", "level"]):
        return Belonging("classifications", "a Statistics Denmark classification download")
    if fields[:2] == ["questionname", "variablename"]:
        return Belonging(
            "survey",
            "the structure file of a SurveyXact export",
            "in a folder of its own with the export's dataset.csv and labels.csv",
        )
    head = "\n".join(text.splitlines()[:3]).casefold()
    if "responseid" in fields or "importid" in head:
        return Belonging("survey", "a Qualtrics export")
    if fields and fields[-1] in ("indhold", "content"):
        return Belonging("statbank", "a Statbank table", "named <TABLE>_<anything>.csv after the table")
    if fields[:1] == ["case_id"] or "activity_id" in fields:
        return Belonging("cases", "a sheet of the case register")
    return None


def _json_kind(text: str) -> Belonging | None:
    # The head may end mid-document, so the keys are looked for, not parsed.
    squeezed = re.sub(r"\s+", "", text)
    if '"variables":[' in squeezed and '"id":' in squeezed:
        return Belonging("statbank", "a Statbank tableinfo answer", "named <TABLE>_<anything>.tableinfo.json")
    if '"dimension":' in squeezed or '"class":"dataset"' in squeezed:
        return Belonging("statbank", "a Statbank answer in JSON-stat", "named <TABLE>_<anything>.json")
    return None
