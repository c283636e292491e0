"""Landing -> raw: what is in the landing zone, each delivery read by its source's reader, the raw layer
brought in line with it.

Every file in the landing zone ends in one state, and the researcher is told which: loaded (or
unchanged since it was loaded), refused with its reason (the rows of its last good version stay), not
recognised, withdrawn, or ignored (operating-system clutter). Plain functions, so the flow's tasks stay
thin and the same steps can be run and tested without Prefect.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from samskab.common import stop_points
from samskab.common.hashing import sha256_of
from samskab.common.reference import seeds_digest
from samskab.common.settings import Settings
from samskab.ingest import decisions, retention
from samskab.ingest.landing import (
    NEEDS_ATTENTION,
    REFUSED,
    UNCHANGED,
    WITHDRAWN,
    Delivery,
    Finding,
    Inventory,
    relative_to_landing,
    take_inventory,
)
from samskab.ingest.pseudonyms import Pseudonymiser
from samskab.ingest.raw_store import (
    CURRENT,
    RULES_CHANGED,
    LoadSummary,
    Rejection,
    Withdrawal,
    current_files,
    delivery_state,
    ensure_raw_schema,
    heavy_rejections,
    load_batch,
    record_refusal,
    rows_of_current_version,
    unfit_values,
    withdraw,
)
from samskab.ingest.reading import Limits, ReaderFault, read_delivery
from samskab.ingest.sources.common import LandingFileError, Pseudonymise, Reject, Source
from samskab.ingest.sources.recognise import belongs_in
from samskab.ingest.sources.registry import SOURCES, source_named

log = logging.getLogger(__name__)


# The raw layer holds identifying data (pseudonyms, free text, the exports' respondent ids): the warehouse
# and its folder are its owner's only (the account that runs the refresh), whatever the umask.
WAREHOUSE_MODE, WAREHOUSE_DIR_MODE = 0o600, 0o700


def open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    folder = settings.warehouse_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(WAREHOUSE_DIR_MODE)
    connection = duckdb.connect(str(settings.warehouse_path))
    settings.warehouse_path.chmod(WAREHOUSE_MODE)
    return connection


@contextlib.contextmanager
def written_once(settings: Settings) -> Iterator[None]:
    """Keep the warehouse open while ingest works through the deliveries. DuckDB writes its file out (a
    checkpoint) when the last connection to it in the process closes, and each step of ingest opens and
    closes its own: without this, the whole file would be written once per delivery (measured: 60 real
    exports spent 5 of their 26 seconds of ingest closing it). Held, it is written once, when ingest is
    done; meanwhile each delivery's commit is kept in the write-ahead log, which the next opening replays
    if the run is killed."""
    connection = open_warehouse(settings)
    try:
        yield
    finally:
        connection.close()


def prepare_raw_layer(settings: Settings, key_fingerprint: str | None = None) -> str | None:
    """Create the raw layer the sources declare, for pseudonyms of the key of `key_fingerprint`; says why
    the raw layer was dropped (an older layout, another key: all is read again), or None when it was kept."""
    # a compaction cut short (samskab/ingest/erasure.py): the warehouse it was copying is whole
    for partial in settings.warehouse_path.parent.glob(settings.warehouse_path.name + ".compacting*"):
        partial.unlink(missing_ok=True)
    connection = open_warehouse(settings)
    try:
        return ensure_raw_schema(connection, key_fingerprint)
    finally:
        connection.close()


def landing_inventory(settings: Settings) -> Inventory:
    """Every delivery of every registered source in the landing zone, and every file that is none."""
    folders = {source.folder: (source.name, source.discover) for source in SOURCES}
    stop_points.reached("landing survey")
    return take_inventory(settings.landing_dir, folders, belongs_in)


def _version(settings: Settings, delivery: Delivery) -> tuple[dict[str, str], str, str | None]:
    """The delivery's file hashes, its source's reading rules, and what raw holds of this version (None
    when a file of it is missing)."""
    hashes = delivery_hashes(settings, delivery)
    reading_rules = reading_rules_of(source_named(delivery.source), settings.landing_dir)
    if len(hashes) != len(delivery.files):
        return hashes, reading_rules, None
    connection = open_warehouse(settings)
    try:
        return hashes, reading_rules, delivery_state(connection, hashes, reading_rules)
    finally:
        connection.close()


def unchanged(settings: Settings, delivery: Delivery) -> LoadSummary | None:
    """The delivery's summary when raw holds this very version of it, read by the reading rules of now
    (there is nothing to read), else None."""
    hashes, _, state = _version(settings, delivery)
    return LoadSummary(delivery.source, delivery.name, UNCHANGED, files=list(hashes)) if state == CURRENT else None


def ingest_delivery(settings: Settings, run_id: str, delivery: Delivery, pseudonymise: Pseudonymise) -> LoadSummary:
    """Read one delivery with its source's reader and load it, unless it is unchanged; a delivery that
    cannot be read is refused (recorded with its reason) and the rows of its last good version stay. Never
    raises for bad input."""
    landing = settings.landing_dir
    relative = {path: relative_to_landing(path, landing) for path in delivery.files}
    hashes, reading_rules, state = _version(settings, delivery)
    if state == CURRENT:
        return LoadSummary(delivery.source, delivery.name, UNCHANGED, files=list(hashes))
    connection = open_warehouse(settings)
    try:
        try:
            batch = read_delivery(delivery, pseudonymise, Limits.of(settings))
        except LandingFileError as error:
            reject = Reject(delivery.source, str(error.file), error.row, None, error.reason, error.sheet)
        except ReaderFault as fault:  # a fault of the reader: refuse the delivery, never stop the run
            reject = Reject(delivery.source, delivery.name, None, None, _unexpected(fault.error_type))
            log.error("Reading %s failed in the platform's code:\n%s", delivery.name, fault.code_location)
        else:
            if state == RULES_CHANGED:
                source = source_named(delivery.source)
                seeds = ", ".join(f"{name}.csv" for name in source.reading_seeds)
                what = "a reference seed or a tableinfo answer" if source.reading_files else "a reference seed"
                also = ", or a table's .tableinfo.json in the landing zone" if source.reading_files else ""
                batch.notes.insert(
                    0,
                    f"{delivery.name} was read again, unchanged: {what} its reader uses changed "
                    f"since it was loaded (one of {seeds} in dbt_project/seeds{also})",
                )
            shrunk = decisions.shrinkage(
                rows_of_current_version(connection, delivery.name), batch.tables, settings.shrink_hold_share
            )
            if shrunk and not decisions.accepted(settings, delivery.name, hashes):
                held = decisions.held_reason(delivery.name, shrunk, settings.shrink_hold_share)
                reject = Reject(delivery.source, delivery.name, None, None, held)
            else:
                try:
                    return load_batch(
                        connection,
                        batch,
                        run_id,
                        landing,
                        delivery.name,
                        hashes,
                        reading_rules,
                        pseudonymise if isinstance(pseudonymise, Pseudonymiser) else None,
                    )
                except duckdb.ConversionException:  # a value the reader let through that its column cannot hold
                    where = unfit_values(connection, batch)
                    reject = Reject(delivery.source, delivery.name, None, None, _unstorable(where))
        described = record_refusal(connection, run_id, delivery.name, list(relative.values()), reject, landing)
        return LoadSummary(
            delivery.source,
            delivery.name,
            REFUSED,
            files=list(relative.values()),
            n_rejected=1,
            rejects=[described],
            reason=described,
        )
    finally:
        connection.close()


def _unstorable(where: list[str]) -> str:
    # DuckDB's conversion error quotes the value: the reason names the columns instead.
    columns = "; ".join(where) if where else "a column the check could not name"
    return (
        f"could not be stored: values do not fit their column's type ({columns}). The reader should have "
        "rejected those cells; this is a fault in the platform, please report it. The rows of the delivery's "
        "last good version stay"
    )


def delivery_hashes(settings: Settings, delivery: Delivery) -> dict[str, str]:
    """The sha256 of each file of the delivery there is, by its name in the landing zone."""
    return {
        relative_to_landing(path, settings.landing_dir): sha256_of(path) for path in delivery.files if path.is_file()
    }


def reading_rules_of(source: Source, landing_dir: Path) -> str:
    """A digest of what a source's reader reads beside a delivery: its seeds and its reading files."""
    digest = seeds_digest(source.reading_seeds)
    if source.reading_files is None:
        return digest
    files = [
        f"{relative_to_landing(path, landing_dir)}={sha256_of(path)}" for path in source.reading_files(landing_dir)
    ]
    return hashlib.sha256("\n".join([digest, *files]).encode("utf-8")).hexdigest()


def _unexpected(error_type: str) -> str:
    # The exception's own text is left out on purpose: it may quote the file's content.
    return (
        f"could not be read: the reader stopped with {error_type}. This is a fault in the platform, "
        "not necessarily in the file; the log names the place in the code. Please report it"
    )


def withdraw_removed(
    settings: Settings, run_id: str, inventory: Inventory, loads: list[LoadSummary]
) -> list[Withdrawal]:
    """Remove from raw the rows of files that left the landing zone (deleted, or moved to withdrawn/).

    A file that is gone but whose delivery was refused this run stays: the last good version holds."""
    present = {
        inventory.relative(path) for delivery in inventory.deliveries for path in delivery.files if path.is_file()
    }
    refused = {load.delivery for load in loads if load.state == REFUSED}
    connection = open_warehouse(settings)
    try:
        retired = retention.retired_files(connection)  # taken out by retention: their rows stay
        gone = [
            (source, delivery, file)
            for source, delivery, file in current_files(connection)
            if file not in present and delivery not in refused and file not in retired
        ]
        return withdraw(connection, run_id, gone) if gone else []
    finally:
        connection.close()


def retire_originals(settings: Settings, run_id: str, now: datetime | None = None) -> list[retention.Original]:
    """Take the originals past their retention out of the landing zone (samskab/ingest/retention.py)."""
    connection = open_warehouse(settings)
    try:
        return retention.retire(settings, connection, run_id, now or datetime.now(UTC))
    finally:
        connection.close()


@dataclass
class Review:
    """What a look over the whole raw layer after ingest found needing attention."""

    rejections: list[Rejection] = field(default_factory=list)
    holds: list = field(default_factory=list)  # deliveries a source held back, each with describe()


def review_raw_layer(settings: Settings) -> Review:
    """After every delivery is in: each source's check across its deliveries (such as the survey exports
    that claim one wave), and the deliveries, loaded this run or before, that rejected more of their rows
    and cells than `settings.attention_rejected_share`. What it finds needs attention until put right."""
    connection = open_warehouse(settings)
    try:
        holds = [hold for source in SOURCES if source.review for hold in source.review(connection)]
        return Review(heavy_rejections(connection, settings.attention_rejected_share), holds)
    finally:
        connection.close()


@dataclass(frozen=True)
class LandingFile:
    """What became of one landing file in a run (published in meta.landing_files)."""

    file: str
    source: str | None
    delivery: str | None
    state: str
    reason: str


@dataclass
class IngestReport:
    """What ingest found in the landing zone and did with it."""

    loads: list[LoadSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    raw_layer_rebuilt: bool = False
    review: Review = field(default_factory=lambda: Review())

    def landing_files(self) -> list[LandingFile]:
        rows = []
        for load in self.loads:
            for file in load.files:
                reason = load.reason if load.state == REFUSED else ""
                rows.append(LandingFile(file, load.source, load.delivery, load.state, reason))
        rows += [
            LandingFile(finding.path, finding.source, None, finding.state, finding.reason) for finding in self.findings
        ]
        rows += [
            LandingFile(w.file, w.source, w.delivery, WITHDRAWN, "no longer in the landing zone; its rows were removed")
            for w in self.withdrawals
        ]
        return sorted(rows, key=lambda row: row.file)

    def landing_rows(self) -> list[dict]:
        """Every file in the landing zone and what became of it, as rows of the run's artifact."""
        return [
            {
                "file": row.file,
                "source": row.source or "",
                "delivery": row.delivery or "",
                "state": row.state,
                "reason": row.reason,
            }
            for row in self.landing_files()
        ]

    def load_rows(self) -> list[dict]:
        """What each delivery loaded and rejected, as rows of the run's artifact."""
        return [
            {
                "source": load.source,
                "delivery": load.delivery,
                "status": {UNCHANGED: "unchanged, skipped"}.get(load.state, load.state),
                "rows loaded": sum(load.rows.values()),
                "rows rejected": load.n_rejected if load.state != REFUSED else 0,
                "first reject": load.rejects[0] if load.rejects else "",
            }
            for load in self.loads
        ]

    def needing_attention(self) -> list[str]:
        """One line per refused delivery, per refused or unrecognised file, and per delivery that rejected
        more than the limit of its rows, and per delivery a source held back, for the researcher."""
        lines = [f"REFUSED {load.reason}" for load in self.loads if load.state == REFUSED]
        lines += [
            f"{finding.state.upper()} {finding.path}: {finding.reason}"
            for finding in self.findings
            if finding.state in NEEDS_ATTENTION
        ]
        lines += [hold.describe() for hold in self.review.holds]
        lines += [f"REJECTED ROWS {rejection.describe()}" for rejection in self.review.rejections]
        return lines


def ingest_landing_zone(settings: Settings, run_id: str, pseudonymise: Pseudonymise) -> IngestReport:
    """Everything ingest does in a run, in order, without Prefect (the flow runs the same steps as tasks)."""
    with written_once(settings):
        rebuilt = prepare_raw_layer(settings, getattr(pseudonymise, "key_fingerprint", None))
        inventory = landing_inventory(settings)
        loads = [ingest_delivery(settings, run_id, delivery, pseudonymise) for delivery in inventory.deliveries]
        withdrawals = withdraw_removed(settings, run_id, inventory, loads)
        retire_originals(settings, run_id)
        return IngestReport(loads, inventory.findings, withdrawals, rebuilt is not None, review_raw_layer(settings))
