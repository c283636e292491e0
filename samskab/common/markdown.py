"""Text from the landing zone shown in Markdown (the run summary in the Prefect UI) as itself.

A folder name, a delivery note or a reason can hold anything a researcher's file system allows: a `|`
that breaks a table, `<script>`, `[a link](...)`, a line break that starts a heading. `inline` makes such
text one line that Markdown and HTML leave as it is: HTML's three characters become entities, and every
character Markdown acts on is escaped with a backslash (CommonMark lets any ASCII punctuation be escaped).
"""

from __future__ import annotations

import html
import re

_ACTIVE = re.compile(r"([\\`*_{}\[\]#!|~>])")  # ( and ) act only after ], which is escaped
_LIST_MARK = re.compile(r"^([-+=])")
_NUMBERED = re.compile(r"^(\d+)([.)])")


def inline(text: object) -> str:
    """`text` as one line of Markdown that shows exactly its characters (whitespace runs become a space)."""
    one_line = " ".join(str(text).split())
    escaped = _ACTIVE.sub(r"\\\1", html.escape(one_line, quote=False))
    return _NUMBERED.sub(r"\1\\\2", _LIST_MARK.sub(r"\\\1", escaped))
