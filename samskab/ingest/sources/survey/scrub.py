"""Open-text answers scrubbed of what identifies people before they are stored.

E-mail addresses, phone numbers, CPR numbers and the respondent's own name are replaced by a marker
such as "[e-mail]". The scrubbed text still stays in the raw layer (`raw.survey_open_answers`), which
dbt never reads and which is never published: a free text can name other people in ways no rule finds.
"""

from __future__ import annotations

import re

import pandas as pd

# Each pattern is tried once per place it can start, in time linear in the text: the e-mail pattern starts
# only where a run of address characters starts (tried at every letter of a long word, it was quadratic:
# 80,000 letters took 65 s).
PATTERNS = (
    ("[e-mail]", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)),
    ("[CPR]", re.compile(r"(?<!\d)[0-3]\d[01]\d{3}[- ]?\d{4}(?!\d)")),
    ("[telefon]", re.compile(r"(?<![\w+])(\+|00)?(45[ ]?)?(\d{2}[ .-]?){3}\d{2}(?!\d)")),
)
MIN_NAME_PART = 3


def scrub(texts: pd.Series, names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The texts with identifiers replaced, and how many replacements each text had.

    `names` holds, per text, the respondent's own name (or None); the full name and each part of it of
    three letters or more is replaced wherever it stands as a word."""
    counts = pd.Series(0, index=texts.index)
    out = texts.astype(object)
    for marker, pattern in PATTERNS:
        found = out.str.count(pattern.pattern, flags=pattern.flags)
        counts += found.fillna(0).astype(int)
        out = out.str.replace(pattern.pattern, marker, regex=True, flags=pattern.flags)
    for index in names.dropna().index.intersection(out.dropna().index):
        parts = [names[index], *names[index].split()]
        for part in sorted({part for part in parts if len(part) >= MIN_NAME_PART}, key=len, reverse=True):
            out[index], n = re.subn(rf"(?<!\w){re.escape(part)}(?!\w)", "[navn]", out[index], flags=re.IGNORECASE)
            counts[index] += n
    return out, counts
