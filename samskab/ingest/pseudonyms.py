"""Keyed pseudonyms for direct identifiers (names, e-mails), made before anything is stored.

HMAC-SHA-256 with a secret key: the same person gets the same pseudonym in every run and file, so
researchers can still link records, but without the key nobody can recompute or reverse it.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from samskab.common.failures import ReportedFailure
from samskab.common.settings import Settings
from samskab.ingest.landing import landing_holds_only_the_sample

# Published in this repository, so it protects nothing: it only ever keys the synthetic embedded sample.
DEMO_PSEUDONYM_KEY = "DEMO-KEY-embedded-sample-only-never-for-real-data"


def key_fingerprint(key: bytes) -> str:
    """Which key this is, in 16 hex digits that tell keys apart and give nothing of the key (an HMAC of a
    fixed text under it): recorded in the raw layer and the published file, never the key itself."""
    return hmac.new(key, b"samskab which key", hashlib.sha256).hexdigest()[:16]


class MissingPseudonymKey(ReportedFailure):
    """Real deliveries and no key: refuse to read anything identifying."""


def resolve_pseudonym_key(settings: Settings) -> tuple[bytes, bool]:
    """The HMAC key, and whether it is the demo key. The demo key is used only when no key is set and
    every file in the landing zone is a byte-exact file of the generated embedded sample."""
    if settings.has_pseudonym_key:
        return settings.pseudonym_key.get_secret_value().encode("utf-8"), False
    if landing_holds_only_the_sample(settings.landing_dir):
        return DEMO_PSEUDONYM_KEY.encode("utf-8"), True
    raise MissingPseudonymKey(
        "No pseudonym key: set SAMSKAB_PSEUDONYM_KEY to a long random secret kept outside the repository. "
        "Only the unchanged synthetic embedded sample (`samskab sample`) runs without one, on a published demo key."
    )


class Pseudonymiser:
    """Turns identifying text into a stable pseudonym such as `email_3f9a0c...`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("The pseudonym key must be at least 16 bytes long.")
        self._key = key
        self.key_fingerprint = key_fingerprint(key)

    def __repr__(self) -> str:  # never show the key in a log or traceback
        return "Pseudonymiser(key=***)"

    def __call__(self, kind: str, value: str | None) -> str | None:
        """Pseudonym of `value` (None for a blank); `kind` keeps e-mails and names apart."""
        if value is None:
            return None
        normalised = " ".join(unicodedata.normalize("NFC", value).split()).casefold()
        if not normalised:
            return None
        digest = hmac.new(self._key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}_{digest[:20]}"
