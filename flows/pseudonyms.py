"""Keyed pseudonyms for direct identifiers (names, e-mails), made before anything is stored.

HMAC-SHA-256 with a secret key: the same person gets the same pseudonym in every run and file, so
researchers can still link records, but without the key nobody can recompute or reverse it.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


class Pseudonymiser:
    """Turns identifying text into a stable pseudonym such as `email_3f9a0c...`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("The pseudonym key must be at least 16 bytes long.")
        self._key = key

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
