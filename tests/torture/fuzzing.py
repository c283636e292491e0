"""What the reader fuzzing shares (tests/torture/test_fuzz_*.py): the seeds, the damage, and how a read
is judged. Every reader fuzzed: damaged copies of real deliveries either load or are refused with file and reason.

Each seed is a real delivery of its kind (the corpus in tests/fixtures/real/, and the sample's case
workbook and SurveyXact export). Hypothesis damages one of its files (byte flips, cuts, stray quotes and
separators, another encoding, a huge field or line, NUL bytes, a duplicated header) or gives the
delivery a hostile name (quotes, semicolons, a line break, non-ASCII, markup), then the landing zone is
taken inventory of and every delivery in it is read as the refresh reads it: in a process of its own,
with a time limit and a memory limit (samskab/ingest/reading.py).

What must hold for every input: the file is found (a delivery, or a finding that names it); reading it
ends in a batch whose rows all name a file of the delivery, or a refusal naming a file of the delivery
with a reason; never a fault of the platform (an exception escaping the reader, a crashed process) and
never the time limit. A fixed seed makes every run try the same inputs; `make torture` tries many more
(the profile in tests/torture/conftest.py) and prints the counts.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from samskab.common.settings import Settings
from samskab.ingest.deliveries import landing_inventory
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.reading import Limits, ReaderFault, read_delivery
from samskab.ingest.sources.common import LandingFileError
from samskab.sample.case_register import build_register, write_case_workbook
from tests.corpus import CORPUS, Item, deliver
from tests.torture.tally import record

PSEUDONYMISE = Pseudonymiser(b"f" * 32)
LIMITS = Limits(seconds=30, memory_bytes=2**30)
TIME_LIMIT_WORDS = "took longer than"

STRAY = [b'"', b";", b",", b"\t", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"'", b"\\", b"\xc3"]
HOSTILE_NAMES = [
    'it\'s "quoted"',
    "a;b;c",
    "line\nbreak",
    "æøå ÆØÅ ü 漢字",
    "<script>alert(1)<script>",
    "'; drop table raw.survey_respondents; --",
    "[link](x) | pipe",
    " leading and trailing ",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "cp850", "mac-roman"]


def _case_workbook(folder: Path) -> Item:
    path = folder / "case_register.xlsx"
    write_case_workbook(path, build_register(random.Random(2016), 1, []))
    return Item("cases", path)


@dataclass(frozen=True)
class Seed:
    """A delivery to damage: a corpus item, or the sample's case workbook (made once per session)."""

    item: Item

    @property
    def folder(self) -> str:
        return "cases" if self.item.kind == "cases" else self.item.folder

    def deliver(self, landing: Path) -> Path:
        """Drop the delivery into `landing`; returns its path there."""
        if self.item.kind == "cases":
            target = landing / "cases" / self.item.path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.item.path, target)
            return target
        deliver(self.item, landing)
        return landing / self.item.folder / self.item.path.name

    def __str__(self) -> str:
        return str(self.item)


def seeds() -> list[Seed]:
    made = Path(tempfile.mkdtemp(prefix="samskab-fuzz-seeds-"))
    return [Seed(item) for item in CORPUS] + [Seed(_case_workbook(made))]


SEEDS = seeds()

# --- damage -------------------------------------------------------------------------------------------

positions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
damages = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(0, 255)),
    st.tuples(st.just("cut"), positions),
    st.tuples(st.just("insert"), positions, st.sampled_from(STRAY)),
    st.tuples(
        st.just("huge field"),
        positions,
        st.sampled_from([b"a", b'"x']),
        st.integers(100_000, 400_000),
    ),
    st.tuples(st.just("huge line"), st.integers(1, 3)),
    st.tuples(st.just("nul bytes"), positions, st.integers(1, 64)),
    st.tuples(
        st.just("duplicate header"),
    ),
    st.tuples(st.just("encoding"), st.sampled_from(ENCODINGS)),
    st.tuples(
        st.just("empty"),
    ),
    st.tuples(st.just("name"), st.sampled_from(HOSTILE_NAMES)),
)


def _damage_bytes(raw: bytes, damage: tuple) -> bytes:
    kind, *args = damage
    at = int(args[0] * len(raw)) if args and isinstance(args[0], float) else 0
    if kind == "flip":
        return raw[:at] + bytes([args[1]]) + raw[at + 1 :]
    if kind == "cut":
        return raw[:at]
    if kind == "insert":
        return raw[:at] + args[1] + raw[at:]
    if kind == "huge field":
        return raw[:at] + args[1][:1] + args[1][-1:] * args[2] + raw[at:]
    if kind == "huge line":
        lines = raw.split(b"\n")
        index = min(args[0], len(lines) - 1)
        lines[index] = lines[index] * 2000
        return b"\n".join(lines)
    if kind == "nul bytes":
        return raw[:at] + b"\x00" * args[1] + raw[at:]
    if kind == "duplicate header":
        first, _, rest = raw.partition(b"\n")
        return first + b"\n" + first + b"\n" + rest
    if kind == "encoding":
        for guess in ("utf-16", "utf-8-sig", "latin-1"):  # latin-1 decodes any bytes
            try:
                return raw.decode(guess).encode(args[0], errors="replace")
            except UnicodeDecodeError:
                continue
    if kind == "empty":
        return b""
    raise AssertionError(kind)


def damage_delivery(root: Path, damage: tuple, which: int) -> Path:
    """Damage one file of the delivery at `root` (or rename the delivery); returns its path afterwards."""
    if damage[0] == "name":
        renamed = root.with_name(damage[1] + "".join(root.suffixes))
        root.rename(renamed)
        return renamed
    files = sorted(path for path in root.rglob("*") if path.is_file()) if root.is_dir() else [root]
    target = files[which % len(files)]
    target.write_bytes(_damage_bytes(target.read_bytes(), damage))
    return root


def read(delivery) -> tuple[str, str]:
    files = {str(path) for path in delivery.files}
    try:
        batch = read_delivery(delivery, PSEUDONYMISE, LIMITS)
    except LandingFileError as refused:
        if TIME_LIMIT_WORDS in refused.reason:
            return "hang", refused.reason
        assert refused.reason.strip(), "a refusal without a reason"
        named = str(refused.file)
        assert named == delivery.name or any(named == file or file.endswith(named) for file in files), named
        return "refused", ""
    except ReaderFault as fault:
        return "fault", f"{fault.error_type}\n{fault.code_location}"
    for table in batch.tables.values():
        column = table.column("source_file").to_pylist() if hasattr(table, "column") else table["source_file"]
        assert set(column) <= files, "rows that name no file of the delivery"
    for reject in batch.rejects:
        assert reject.reason.strip() and reject.file, "a rejected row without its file and reason"
    return "loaded", ""


def damaged_and_read(seed: Seed, damage: tuple, which: int) -> list[tuple[str, str]]:
    """Deliver the seed into a fresh lake, damage it, and read every delivery the inventory finds there;
    every file must be accounted for (a delivery's, or named in a finding). Returns (outcome, detail) each."""
    with tempfile.TemporaryDirectory(prefix="samskab-fuzz-") as folder:
        settings = Settings(data_lake=Path(folder) / "data_lake")
        damage_delivery(seed.deliver(settings.landing_dir), damage, which)
        inventory = landing_inventory(settings)
        listed = {inventory.relative(path) for delivery in inventory.deliveries for path in delivery.files}
        found = [finding.path for finding in inventory.findings]
        for path in settings.landing_dir.rglob("*"):
            if path.is_file():
                name = inventory.relative(path)
                assert name in listed or any(name == f or name.startswith(f + "/") for f in found), "a file left untold"
        return [read(delivery) for delivery in inventory.deliveries]


def check(seed: Seed, damage: tuple, which: int) -> None:
    """The property every fuzzed input must keep: tallied, and never a fault or the time limit."""
    for outcome, detail in damaged_and_read(seed, damage, which):
        record(seed.item.kind, damage[0], outcome)
        assert outcome not in ("fault", "hang"), f"{seed} damaged by {damage[0]}: {outcome} {detail}"
