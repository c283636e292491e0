"""One typed settings object for the platform, read once through `get_settings()`.

Every path the platform touches is computed here, so a reader of any other module knows where the
data lake lives without chasing environment variables.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Settings read from `SAMSKAB_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="SAMSKAB_", env_file=".env", extra="ignore")

    data_lake: Path = REPO_ROOT / "data_lake"
    dbt_project_dir: Path = REPO_ROOT / "dbt_project"
    # The HMAC key for pseudonyms: from the environment or .env, never from the repository.
    pseudonym_key: SecretStr | None = None
    # A share that moves more than this between two publishes warns (flows/quality/drift.py).
    drift_threshold: float = 0.10
    # Statistics Denmark's Statbank API: "recorded" replays the responses recorded beside the lake
    # (data_lake/recorded_api/statbank, served on 127.0.0.1), so no run needs the network; a URL such as
    # https://api.statbank.dk/v1/ asks the live API.
    statbank_api: str = "recorded"
    statbank_timeout_seconds: float = 30.0
    # Attempts per request on network errors and 5xx answers, with backoff doubling from this many seconds.
    statbank_attempts: int = 4
    statbank_backoff_seconds: float = 2.0

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
    def published_dir(self) -> Path:
        return self.data_lake / "published"

    @property
    def published_path(self) -> Path:
        return self.published_dir / "analytics.duckdb"

    @property
    def previous_path(self) -> Path:
        return self.published_dir / "analytics.previous.duckdb"

    @property
    def last_refresh_path(self) -> Path:
        """What the latest refresh attempt concluded, passed or failed, for `samskab status`."""
        return self.published_dir / "last_refresh.json"

    @property
    def lock_path(self) -> Path:
        return self.data_lake / ".refresh.lock"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests point the platform at a temporary data lake)."""
    get_settings.cache_clear()


def quiet_third_party_telemetry() -> None:
    """Switch off usage reporting of the stack before any of it is imported."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
