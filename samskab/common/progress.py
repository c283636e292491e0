"""Progress of work a person waits for: a bar in a terminal, a few plain lines in a log.

In a terminal (stderr is a TTY) a one-line bar is redrawn in place, at most ten times a second. Anywhere
else (a scheduled run, CI, output piped to a file) progress is quiet and line-based: one line when the
work starts, one at each quarter, one when it ends, through the given log function (the Prefect run
logger inside a flow), so logs stay readable and never fill with carriage returns.

Progress lines name counts and the step's own name, never a cell value.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


class Progress:
    """`Progress("dbt build", total=660, unit="nodes")`; call `advance()` per step and `finish()` at the end."""

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "",
        stream: TextIO | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.label, self.total, self.unit = label, max(total, 0), unit
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = is_terminal(self.stream)
        self.log = log or self._print_line
        self.done = 0
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._quarter = 0
        self._finished = False
        self._note = ""
        if self.terminal:
            self._draw(force=True)
        else:
            self.log(f"{self.label}: started, {self._count(self.total)} to do")

    def _print_line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _count(self, n: int) -> str:
        return f"{n:,} {self.unit}".strip()

    def _draw(self, force: bool = False, note: str = "") -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        share = self.done / self.total if self.total else 1.0
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        text = f"\r{self.label} [{bar}] {self.done:,}/{self._count(self.total)} {now - self.started:5.1f}s {note}"
        self.stream.write(text[:200].ljust(80))
        self.stream.flush()

    def advance(self, steps: int = 1, note: str = "") -> None:
        self.done = min(self.done + steps, self.total) if self.total else self.done + steps
        self._note = note
        if self.terminal:
            self._draw(note=note)
            return
        quarter = int(4 * self.done / self.total) if self.total else 0
        if 0 < quarter < 4 and quarter > self._quarter:
            self._quarter = quarter
            self.log(f"{self.label}: {self.done:,} of {self._count(self.total)} ({quarter * 25} %)")

    def finish(self, note: str = "") -> None:
        if self._finished:
            return
        self._finished = True
        seconds = time.monotonic() - self.started
        if self.terminal:
            self._draw(force=True, note=note or self._note)
            self.stream.write("\n")
            self.stream.flush()
            return
        suffix = f"; {note}" if note else ""
        self.log(f"{self.label}: done, {self.done:,} of {self._count(self.total)} in {seconds:.1f} s{suffix}")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
