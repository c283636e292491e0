"""Generate the embedded study sample: synthetic landing files in the shapes the platform reads.

Deterministic for a given seed and scale. Scale 1 is the study itself: two survey waves (2016 and a
2019 follow-up with renamed variables, see `survey.py`) to the heads of eight sector areas in all 98
municipalities, five case studies, and the recorded answers of Statistics Denmark's API for the declared
tables (`statbank_recordings.py`), which the connector fetches as it would from the live API. A larger
scale has every head answer each wave that many times (resubmissions within the wave's export), for
benchmarks: one export per wave, as the mapping expects.

The sample carries the quirks of real deliveries on purpose: SurveyXact's UTF-16 tab-separated export
with truncated variable names, a trailing empty column and header-less labels; Statbank's BOM, CRLF,
semicolons, decimal commas and Danish quarters; a case sheet written by hand in Danish.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from samskab.common.hashing import sha256_of
from samskab.common.reference import seed_rows
from samskab.ingest.landing import SAMPLE_MARKER
from samskab.sample.case_register import build_register, write_case_workbook
from samskab.sample.statbank_recordings import write_statbank_recordings
from samskab.sample.survey import WAVES, survey_wave
from samskab.sample.survey_shapes import write_shape

DEFAULT_SURVEY_SHAPE = "surveyxact-utf16"


@dataclass(frozen=True)
class SampleManifest:
    """What was generated: the files written and the people whose names must never be published."""

    files: tuple[Path, ...]
    names: tuple[str, ...]
    emails: tuple[str, ...]


def load_municipalities() -> list[dict[str, str]]:
    return seed_rows("municipalities")


def generate_sample(
    landing_dir: Path,
    scale: int = 1,
    seed: int = 2016,
    survey_shape: str = DEFAULT_SURVEY_SHAPE,
    waves: tuple[str, ...] = tuple(WAVES),
    recordings_dir: Path | None = None,
) -> SampleManifest:
    """Write the embedded sample into `landing_dir` and say what was written.

    Statbank is not written into the landing zone: its recorded API answers go to `recordings_dir`
    (beside the landing zone, `recorded_api/statbank`, by default), where the connector fetches them.

    `survey_shape` is the shape of the survey exports (one of survey_shapes.SHAPES; SurveyXact's
    tab-separated UTF-16 export by default); `waves` the survey waves written (both by default; tests of
    one export's shapes write the first alone). Returns the files and the synthetic names and e-mails, so
    tests can prove none is published.
    """
    if scale < 1:
        raise ValueError(f"scale must be 1 or more, got {scale}")
    rng = random.Random(seed)
    municipalities = load_municipalities()
    names: list[str] = []
    emails: list[str] = []
    files: list[Path] = []
    for wave_id in waves:
        # Larger scales have every head answer each wave `scale` times (resubmissions in the same export).
        export = survey_wave(wave_id, rng, municipalities, names, emails, rounds=scale)
        files += write_shape(export, landing_dir / "survey", survey_shape)
    write_statbank_recordings(recordings_dir or landing_dir.parent / "recorded_api" / "statbank", seed)
    register = build_register(rng, scale, names)
    files.append(write_case_workbook(landing_dir / "cases" / "case_register.xlsx", register))
    _write_marker(landing_dir, files, scale, seed)
    return SampleManifest(files=tuple(files), names=tuple(sorted(set(names))), emails=tuple(sorted(set(emails))))


def _write_marker(landing_dir: Path, files: list[Path], scale: int, seed: int) -> None:
    """Record which files are the synthetic sample, byte for byte, so the demo key is never used on others."""
    marker = {
        "what": "Synthetic embedded sample written by `samskab sample`; no real person is in it.",
        "scale": scale,
        "seed": seed,
        "files": {path.relative_to(landing_dir).as_posix(): sha256_of(path) for path in files},
    }
    (landing_dir / SAMPLE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
