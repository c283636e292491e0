"""Tell someone when a night fails or needs attention: each such run sends one notice through Apprise.

The destinations are Apprise URLs in `SAMSKAB_NOTIFY_URLS` (mailto://, a Teams or Slack webhook, ...).
Without any, the notice is appended to `data_lake/notices.log`, through a small Apprise plugin of our own
(`samskabnotices://`), so the default needs no network and no account.

A notice holds the run, its time, why it stopped and the failed checks in words and counts, and what the
analysts are reading instead; never a cell value (the texts come from `samskab.common.failures`).
"""

from __future__ import annotations

import fcntl
import os
import threading
import warnings
from pathlib import Path

from samskab.common.settings import Settings

NOTICES_SCHEMA = "samskabnotices"
_target_lock = threading.Lock()
_target: list[Path] = []
_registered = False


def _register_notices_file_plugin() -> None:
    from apprise.decorators import notify

    @notify(on=NOTICES_SCHEMA, name="samskab notices file")
    def _append(body: str, title: str, notify_type: str, *args, **kwargs) -> bool:
        path = _target[-1]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(f"== {title}\n{body.rstrip()}\n\n")
            handle.flush()
            os.fsync(handle.fileno())
        return True


def destinations(settings: Settings) -> list[str]:
    urls = [url for url in settings.notify_urls.replace(",", " ").split() if url]
    return urls or [f"{NOTICES_SCHEMA}://"]


def send_notice(settings: Settings, title: str, body: str) -> list[str]:
    """Send the notice to every destination; returns the destinations that did not take it (never raises:
    a notice that cannot be sent must not hide the failure it reports)."""
    # Apprise loads its plugins on first use, one of which imports the standard library's deprecated
    # `imghdr`; that warning is Apprise's to fix and must not fail a run (or a test session with -W error).
    with _target_lock, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"'imghdr' is deprecated", category=DeprecationWarning)
        return _send(settings, title, body)


def _send(settings: Settings, title: str, body: str) -> list[str]:
    import apprise

    global _registered
    if not _registered:
        _register_notices_file_plugin()
        _registered = True
    _target.append(settings.notices_path)
    try:
        failed = []
        for url in destinations(settings):
            sender = apprise.Apprise()
            if not sender.add(url) or not sender.notify(title=title, body=body):
                failed.append(url.split("://", 1)[0] + "://…")  # never the rest: it may hold a password
        return failed
    except Exception:  # a broken plugin or URL: the failure itself is reported elsewhere
        return ["(notices could not be sent)"]
    finally:
        _target.pop()


def send_failure_notice(
    settings: Settings, run: str, started_at: str, verdict: str, published: tuple[str, str] | None
) -> list[str]:
    """The notice of a run that failed: why, in words from samskab.common.failures (never a value), and
    which file analysts read instead. Returns the destinations that did not take it."""
    started = started_at[:16].replace("T", " ") + " UTC"
    body = [
        f"Run {run} started {started} and FAILED.",
        "",
        verdict,
        "",
        f"Analysts read the file of run {published[0]} (built {published[1]})."
        if published
        else "Nothing is published yet.",
        "`samskab status` shows the last runs.",
    ]
    return send_notice(settings, f"samskab: nightly refresh FAILED ({started})", "\n".join(body))


def send_attention_notice(settings: Settings, run: str, outcome: str, attention: list[str]) -> list[str]:
    """The notice of a night that published (or kept the file) while landing files need attention: sent
    every such night until they are put right. Returns the destinations that did not take it."""
    body = [
        f"{run}: {outcome}",
        "",
        f"{len(attention)} landing files or deliveries need attention:",
        *[f"  {line}" for line in attention],
        "",
        "Next: correct these files (deliver a new version, never edit the old one), or move a delivery into "
        "landing/withdrawn/. `samskab status` names them until then.",
    ]
    return send_notice(settings, f"samskab: {len(attention)} landing files need attention", "\n".join(body))


def read_notices(settings: Settings) -> str:
    return settings.notices_path.read_text(encoding="utf-8") if settings.notices_path.exists() else ""
