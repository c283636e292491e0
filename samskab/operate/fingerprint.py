"""What a published file was built from, in one digest: so a refresh knows when nothing changed.

Three parts, each a sha256 over file names and contents (never a cell value, and nothing is read into
memory whole):
- landing: every file in the landing zone (deliveries, Statbank answers, files no source recognises);
- code: the platform's code, its dbt project (models, tests, macros, seeds: the reference data) and
  its expectation suites, and the pinned versions of the stack (uv.lock);
- settings: the settings that change what is published (the drift threshold, and which pseudonym key,
  as a keyed digest that does not reveal it).

The refresh compares the current digest with the one the published file records in `meta.runs`; equal
digests mean the refresh would publish the same file again, so it stops and says so (`--force` runs
every stage anyway). Only standard-library modules are used, so the comparison costs seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from samskab.common.hashing import files_digest, files_under, tree_digest
from samskab.common.settings import REPO_ROOT, Settings
from samskab.common.words import RunState

CODE_PACKAGES = ("samskab", "flows")
CODE_FILES = ("pyproject.toml", "uv.lock", "prefect.yaml")


@dataclass(frozen=True)
class Fingerprint:
    landing: str
    code: str
    settings: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.landing}\n{self.code}\n{self.settings}".encode()).hexdigest()

    def changed_parts(self, recorded: str) -> str:
        """In words, for a log line: which parts differ from a recorded `parts()` string."""
        if not recorded or ";" not in recorded:
            return "the published file records no inputs to compare with"
        before = _recorded_parts(recorded)
        names = {"landing": "the landing zone", "code": "the code or reference data", "settings": "the settings"}
        changed = [names[name] for name in names if before.get(name) != getattr(self, name)]
        return ", ".join(changed) if changed else "nothing"

    def landing_changed(self, recorded: str | None) -> bool:
        """Whether the landing zone differs from that of a recorded `parts()` string (or nothing is recorded)."""
        return _recorded_parts(recorded).get("landing") != self.landing

    def parts(self) -> str:
        return f"landing={self.landing};code={self.code};settings={self.settings}"


def _recorded_parts(recorded: str | None) -> dict[str, str]:
    """A recorded `parts()` string as {part: digest}."""
    return dict(part.split("=", 1) for part in (recorded or "").split(";") if "=" in part)


def landing_digest(settings: Settings) -> str:
    return tree_digest(settings.landing_dir)


def code_digest(settings: Settings) -> str:
    from samskab.gate.suites import expectations_dir

    files = [entry for package in CODE_PACKAGES for entry in files_under(REPO_ROOT / package, REPO_ROOT)]
    project = settings.dbt_project_dir
    files += [("dbt_project/" + name, path) for name, path in files_under(project, project)]
    suites = expectations_dir()
    files += [("expectations/" + name, path) for name, path in files_under(suites, suites)]
    files += [entry for name in CODE_FILES for entry in files_under(REPO_ROOT / name, REPO_ROOT)]
    return files_digest(files)


def settings_digest(settings: Settings) -> str:
    from samskab.ingest.pseudonyms import key_fingerprint

    key = settings.pseudonym_key.get_secret_value() if settings.has_pseudonym_key else ""
    which_key = key_fingerprint(key.encode("utf-8")) if key else "demo"
    return hashlib.sha256(f"drift={settings.drift_threshold};key={which_key}".encode()).hexdigest()


def fingerprint(settings: Settings) -> Fingerprint:
    return Fingerprint(landing_digest(settings), code_digest(settings), settings_digest(settings))


# --- Whether a refresh has anything to do --------------------------------------------------------------

UNCHANGED, HELD = RunState.UNCHANGED, RunState.HELD


@dataclass(frozen=True)
class Decision:
    """Whether the refresh runs its stages; when not, `state` says why (UNCHANGED or HELD). `reads_landing`:
    the landing zone differs from the published file's, so the run may have deliveries to read."""

    run: bool
    state: str
    message: str
    fingerprint: Fingerprint
    reads_landing: bool = True


def published_inputs(path: Path) -> tuple[str, str, str, str] | None:
    """(digest, parts, run id, finished) recorded in the published file's `meta.runs`, if it records them."""
    if not path.is_file():
        return None
    import duckdb

    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = connection.execute(
            "select inputs_fingerprint, inputs_parts, run_id, strftime(finished_at, '%Y-%m-%d %H:%M') from meta.runs"
        ).fetchone()
    except duckdb.Error:  # a file from before fingerprints were recorded
        return None
    finally:
        connection.close()
    return (str(row[0]), str(row[1]), str(row[2]), f"{row[3]} UTC") if row else None


def decide(settings: Settings, force: bool = False) -> Decision:
    """Compare the inputs now with those of the published file (and of a rollback that holds)."""
    from samskab.publish.swap import read_hold

    current = fingerprint(settings)
    recorded = published_inputs(settings.published_path)
    reads_landing = current.landing_changed(recorded[1] if recorded else None)
    if force:
        return Decision(True, "", "Forced (--force): every stage runs, whatever changed.", current, reads_landing)
    hold = read_hold(settings)
    if hold and hold.get("inputs_fingerprint") == current.digest:
        return Decision(
            False,
            HELD,
            f"The published file was rolled back at {hold.get('rolled_back_at', '?')} to {hold.get('rolled_back_to')}, "
            "and nothing has changed since: it stays published. A new delivery, code or reference data ends the "
            "hold; `samskab refresh --force` publishes the current inputs now.",
            current,
        )
    if recorded and recorded[0] == current.digest:
        return Decision(
            False,
            UNCHANGED,
            f"Nothing changed since run {recorded[2]} published the file at {recorded[3]}: the same landing files, "
            "code, reference data and settings. The published file stays as it is; no stage ran. "
            "(`samskab refresh --force` runs every stage anyway.)",
            current,
        )
    changed = current.changed_parts(recorded[1]) if recorded else "nothing is published yet"
    return Decision(True, "", f"Changed since the last publish: {changed}.", current, reads_landing)
