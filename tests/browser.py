"""The documentation as a person sees it: a page opened in a headless Chromium that reaches nothing but
loopback, read after its scripts ran (the DOM the browser holds, not the file on disk).

`make test` installs Chromium (Makefile). Without it these tests fail with the command that installs it;
they never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

INSTALL = "apt-get install --no-install-recommends chromium"

# A new headless browser with no network: every host but 127.0.0.1 resolves to nothing (IP addresses
# included), and none of Chromium's own background connections (updates, sync, first-run) is opened.
OFFLINE = (
    "--headless",
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium() -> str:
    """Chromium's command; a test fails (never skips) where it is not installed."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Chromium is not installed: the documentation's tests open each page in it, with no network. "
            f"`make test` installs it when run as root; or install it yourself: sudo {INSTALL}",
            pytrace=False,
        )
    return found


def open_offline(url: str, profile: Path, budget_ms: int = 5000) -> str:
    """The page at `url` as Chromium holds it once the page's own clock has run `budget_ms` (its scripts
    run, its timers fire, what it fetches arrives or fails), serialised. `profile` is the browser's own
    folder (a new one is made in it)."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        chromium(),
        *OFFLINE,
        f"--user-data-dir={profile / 'user-data'}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        url,
    ]
    # Its home is the profile's folder too: the browser writes nothing outside it.
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile), "XDG_CACHE_HOME": str(profile)}
    browser = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its helper processes end with it, on a timeout too
    )
    try:
        out, err = browser.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)
        out, err = browser.communicate()
        pytest.fail(f"Chromium did not finish {url} within 90 s:\n{err.decode(errors='replace')[-2000:]}")
    dom = out.decode("utf-8", errors="replace")
    assert browser.returncode == 0 and dom.strip(), (
        f"Chromium could not open {url} (exit {browser.returncode}):\n{err.decode(errors='replace')[-2000:]}"
    )
    return dom


class Seen(HTMLParser):
    """What a page shows, read from the DOM a browser holds: its text (not its scripts' or styles'), its
    tables' rows cell by cell, its links, the attributes of its elements, and each figure's title with
    the shapes its chart draws."""

    _HIDDEN = frozenset({"script", "style", "template", "noscript"})
    _SHAPES = frozenset({"rect", "path", "line", "circle", "polyline", "polygon"})

    def __init__(self, dom: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.rows: list[list[str]] = []
        self.cells: list[tuple[str, dict[str, str | None]]] = []  # (text, attributes) of every cell
        self.links: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.figures: dict[str, tuple[str, int]] = {}
        self._hidden = 0
        self._cell: list[str] | None = None
        self._cell_attributes: dict[str, str | None] = {}
        self._figure: str | None = None
        self._heading: list[str] | None = None
        self.feed(dom)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell, self._cell_attributes = [], attributes
        elif tag == "figure":
            self._figure = attributes.get("id") or ""
            self.figures[self._figure] = ("", 0)
        elif tag == "h3" and self._figure is not None:
            self._heading = []
        elif tag in self._SHAPES and self._figure is not None:
            title, shapes = self.figures[self._figure]
            self.figures[self._figure] = (title, shapes + 1)

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            text = " ".join("".join(self._cell).split())
            self.rows[-1].append(text)
            self.cells.append((text, self._cell_attributes))
            self._cell = None
        elif tag == "h3" and self._heading is not None and self._figure is not None:
            self.figures[self._figure] = (" ".join("".join(self._heading).split()), self.figures[self._figure][1])
            self._heading = None
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data):
        if self._hidden:
            return
        self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)
