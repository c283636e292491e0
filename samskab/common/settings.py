"""One typed settings object for the platform, read once through `get_settings()`.

Every path the platform touches is computed here, so a reader of any other module knows where the
data lake lives without chasing environment variables. Settings come from `SAMSKAB_*` environment
variables, then a `.env` file in the working directory, then the defaults below.

Plain Python on purpose: `samskab status` and `samskab --help` read the settings, and must answer in
well under a second, so nothing heavy (pydantic-settings alone takes most of a second) is imported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX = "SAMSKAB_"


class Secret:
    """A value that never shows itself in a repr, a log line or a traceback."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(ValueError):
    """A setting that does not read as its kind; names the variable, never a secret's value."""


@dataclass(frozen=True)
class Settings:
    """The platform's settings. `Settings(data_lake=...)` takes the rest from the environment."""

    data_lake: Path = REPO_ROOT / "data_lake"
    dbt_project_dir: Path = REPO_ROOT / "dbt_project"
    # The HMAC key for pseudonyms: from the environment or .env, never from the repository.
    pseudonym_key: Secret | None = None
    # Without a key in the environment, the Prefect Secret block that holds it (how a scheduled deployment
    # gets it; two studies on one Prefect server keep a block each).
    pseudonym_secret_block: str = "samskab-pseudonym-key"
    # A share that moves more than this between two publishes warns (samskab/gate/drift.py).
    drift_threshold: float = 0.10
    # Statistics Denmark's Statbank API: "recorded" replays the responses recorded beside the lake
    # (data_lake/recorded_api/statbank, served on 127.0.0.1), so no run needs the network; a URL such as
    # https://api.statbank.dk/v1/ asks the live API.
    statbank_api: str = "recorded"
    statbank_timeout_seconds: float = 30.0
    # Attempts per request on network errors and 5xx answers, with backoff doubling from this many seconds.
    statbank_attempts: int = 4
    statbank_backoff_seconds: float = 2.0
    # `samskab status` warns when the last successful publish is older than this.
    freshness_hours: float = 26.0
    # Where a failed run's notice goes: Apprise URLs separated by spaces or commas (mailto://, a chat
    # webhook, ...). Empty: appended to data_lake/notices.log (see samskab/operate/notices.py).
    notify_urls: str = ""
    # Every publish keeps a dated, read-only snapshot of the file (published/snapshots/); snapshots older
    # than this many nights are removed when a new one is kept (the newest is always kept).
    snapshot_retention_days: int = 60
    # A delivery that loaded, but whose rejected rows and cells are more than this share of what it
    # loaded, needs attention like a refused file (exit code 4, `samskab status`, a notice) until it is
    # corrected or withdrawn. Every rejected row is listed in meta.rejected_rows whatever the share.
    attention_rejected_share: float = 0.02
    # A new version of a delivery holding fewer than this share of its loaded version's rows waits for a
    # decision (`samskab accept`; samskab/ingest/decisions.py); 0 switches the check off.
    shrink_hold_share: float = 0.5
    # Each delivery is read in a process of its own (samskab/ingest/reading.py): stopped and refused when
    # reading it takes longer than this, or needs more memory than this.
    read_time_limit_seconds: float = 900.0
    read_memory_limit_mb: int = 4096
    # Landing originals with names or e-mails in clear (samskab/ingest/retention.py): taken out of the landing
    # zone this many days after their version was loaded (0: kept until removed by hand), moved into
    # retired_originals/ in the data lake ("move") or deleted ("delete"); `samskab status` warns this many
    # days before.
    originals_retention_days: int = 0
    originals_retention_action: str = "move"
    originals_retention_warn_days: int = 14
    # The record of processing (GDPR article 30, samskab/publish/processing_record.py): who is responsible
    # for the processing, why, and on which legal basis. Empty: the record says NOT SET.
    data_controller: str = ""
    processing_purpose: str = ""
    legal_basis: str = ""
    # Past one machine (README "Past one machine"). The Prefect server `samskab serve` starts keeps its runs
    # in this PostgreSQL database (postgresql+asyncpg://user:password@host:port/database) instead of SQLite
    # under PREFECT_HOME, and listens on `prefect_host` (127.0.0.1: this machine only).
    prefect_database_url: Secret | None = None
    prefect_host: str = "127.0.0.1"
    # The process work pool the nightly deployment runs on: `samskab serve` then leaves its runs to the
    # workers (`samskab worker` on any machine); empty, serve runs them itself.
    work_pool: str = ""
    # The team's Prefect server, for `samskab worker` on another machine (http://host:4200/api).
    prefect_api_url: str = ""
    # The shared history (samskab/publish/history.py): a DuckLake catalog every publish also commits the marts
    # to, as one snapshot tagged with the run ("postgres:dbname=... host=... user=...", or a path to a
    # .ducklake file), and the folder its data files go to (a shared folder, or object storage).
    ducklake_catalog: Secret | None = None
    ducklake_data_path: str = ""

    @classmethod
    def from_environment(cls, _env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
        """Each setting from `overrides`, else `SAMSKAB_<NAME>` in the environment, else `.env`, else its default."""
        from_file = _read_env_file(Path(_env_file)) if _env_file else {}
        values: dict[str, Any] = {}
        for spec in fields(cls):
            variable = ENV_PREFIX + spec.name.upper()
            if spec.name in overrides:
                raw = overrides[spec.name]
            elif variable in os.environ:
                raw = os.environ[variable]
            elif variable in from_file:
                raw = from_file[variable]
            else:
                continue
            values[spec.name] = raw
        unknown = set(overrides) - {spec.name for spec in fields(cls)}
        if unknown:
            raise TypeError(f"Unknown settings: {', '.join(sorted(unknown))}")
        return cls(**values)

    def __post_init__(self) -> None:
        for spec in fields(self):
            object.__setattr__(self, spec.name, _coerce(spec.name, spec.default, getattr(self, spec.name)))
        for name, (low, high, meaning) in BOUNDS.items():
            value = getattr(self, name)
            if not (low <= value <= high):
                raise SettingsError(
                    f"The setting {ENV_PREFIX}{name.upper()} is {value!r}; it must be {meaning}. Correct it in the "
                    "environment or in .env (nothing was run)."
                )
        if self.originals_retention_action not in ("move", "delete"):
            raise SettingsError(
                f"The setting {ENV_PREFIX}ORIGINALS_RETENTION_ACTION is {self.originals_retention_action!r}; it must "
                "be move or delete. Correct it in the environment or in .env (nothing was run)."
            )

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def has_pseudonym_key(self) -> bool:
        """Whether a pseudonym key is set (an empty one is none)."""
        return self.pseudonym_key is not None and bool(self.pseudonym_key.get_secret_value())

    @property
    def landing_dir(self) -> Path:
        return self.data_lake / "landing"

    @property
    def statbank_recordings_dir(self) -> Path:
        """Recorded Statbank API answers that stand for the API when `statbank_api` is "recorded"."""
        return self.data_lake / "recorded_api" / "statbank"

    @property
    def warehouse_path(self) -> Path:
        return self.data_lake / "warehouse" / "warehouse.duckdb"

    @property
    def debug_log_path(self) -> Path:
        """The tracebacks of failed runs (samskab/operate/prefect_runs.py): for whoever maintains the platform;
        beside the warehouse, as dbt's log, since an exception's text may quote the data."""
        return self.data_lake / "warehouse" / "logs" / "refresh_debug.log"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's artifacts of the last build (manifest.json holds every model's and column's description)."""
        return self.data_lake / "warehouse" / "dbt_target"

    @property
    def published_dir(self) -> Path:
        return self.data_lake / "published"

    @property
    def published_path(self) -> Path:
        return self.published_dir / "analytics.duckdb"

    @property
    def previous_path(self) -> Path:
        return self.published_dir / "analytics.previous.duckdb"

    @property
    def snapshots_dir(self) -> Path:
        """Every published file, dated and read-only, for `--as-of` (samskab/publish/snapshots.py)."""
        return self.published_dir / "snapshots"

    @property
    def docs_dir(self) -> Path:
        """dbt's docs and Great Expectations' Data Docs of the published file, rebuilt on every publish."""
        return self.published_dir / "docs"

    @property
    def runs_dir(self) -> Path:
        """The run journal: one record per refresh or rollback, opened before it starts
        (samskab/operate/run_journal.py)."""
        return self.data_lake / "runs"

    @property
    def rollback_hold_path(self) -> Path:
        """Present while a rollback holds: the refresh does not publish the same inputs again."""
        return self.published_dir / "rollback_hold.json"

    @property
    def notices_path(self) -> Path:
        return self.data_lake / "notices.log"

    @property
    def accepted_deliveries_path(self) -> Path:
        """The researcher's decisions to load deliveries that shrank (samskab/ingest/decisions.py)."""
        return self.data_lake / "accepted_deliveries.json"

    @property
    def spill_dir(self) -> Path:
        """Where analysts' queries spill to disk when they outgrow memory, a folder per process (never beside
        the published file: DuckDB's default there blocked every later publish when a reader was killed)."""
        return self.data_lake / "spill"

    @property
    def retired_originals_dir(self) -> Path:
        """Where retention moves landing originals with direct identifiers (samskab/ingest/retention.py)."""
        return self.data_lake / "retired_originals"

    @property
    def lock_path(self) -> Path:
        return self.data_lake / ".refresh.lock"


# Settings that hold a secret: shown by no message, log or repr.
SECRETS = frozenset({"pseudonym_key", "prefect_database_url", "ducklake_catalog"})

# What each number may be: a setting outside its range is refused before anything runs (a negative
# retention once removed the snapshot just kept).
BOUNDS: dict[str, tuple[float, float, str]] = {
    "drift_threshold": (0.001, 1.0, "a share between 0.001 and 1 (0.10 is ten percentage points)"),
    "statbank_timeout_seconds": (0.1, 3600.0, "between 0.1 and 3600 seconds"),
    "statbank_attempts": (1, 20, "a whole number of attempts from 1 to 20"),
    "statbank_backoff_seconds": (0.0, 600.0, "between 0 and 600 seconds"),
    "freshness_hours": (1.0, 24.0 * 366, "between 1 hour and a year"),
    "snapshot_retention_days": (1, 36_600, "at least 1 night (the newest snapshot is always kept)"),
    "attention_rejected_share": (0.0, 1.0, "a share between 0 and 1"),
    "shrink_hold_share": (0.0, 1.0, "a share between 0 and 1 (0 switches the check off)"),
    "read_time_limit_seconds": (1.0, 86_400.0, "between 1 second and a day"),
    "read_memory_limit_mb": (64, 1_048_576, "at least 64 MB"),
    "originals_retention_days": (0, 36_600, "a whole number of days, 0 to keep originals until removed by hand"),
    "originals_retention_warn_days": (0, 3_660, "a whole number of days"),
}


def _coerce(name: str, default: Any, raw: Any) -> Any:
    """A setting's value as its kind (the kind of its default; the key is a Secret)."""
    if name in SECRETS:
        if raw is None or isinstance(raw, Secret):
            return raw
        return Secret(str(raw)) if str(raw) else None
    if raw is None or isinstance(raw, type(default)) or default is None:
        return raw
    kind = type(default)
    if isinstance(default, Path):
        return Path(raw).expanduser()
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"The setting {ENV_PREFIX}{name.upper()} must be a {kind.__name__}; correct it in the environment "
            "or in .env"
        ) from None


def _read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines of a .env file (comments and blank lines skipped, quotes taken off)."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name, value = name.strip().removeprefix("export ").strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()


def reset_settings() -> None:
    """Forget the cached settings (tests point the platform at a temporary data lake)."""
    get_settings.cache_clear()


# Usage reporting of the stack, switched off: every entry point of the platform, the Prefect servers it
# starts and the tests set these before dbt, Great Expectations or Prefect is imported.
TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def quiet_third_party_telemetry() -> None:
    """Switch off usage reporting of the stack before any of it is imported (a value already set wins)."""
    for variable, value in TELEMETRY_OFF.items():
        os.environ.setdefault(variable, value)
