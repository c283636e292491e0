"""Generate the embedded study sample: synthetic landing files in the shapes the platform reads.

Deterministic for a given seed and scale. Scale 1 is the study itself: two survey waves (2016 and a
2019 follow-up with renamed variables, see `survey.py`) to the heads of eight sector areas in all 98
municipalities, eight quarters of Statbank population, five case studies. A larger scale adds
re-exports of the first wave and longer registry history, for benchmarks.

The sample carries the quirks of real deliveries on purpose: SurveyXact's UTF-16 tab-separated export
with truncated variable names, a trailing empty column and header-less labels; Statbank's BOM, CRLF,
semicolons, labels instead of codes and Danish quarters; a case sheet written by hand in Danish.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flows.landing import PLATFORM_FILES, SAMPLE_MARKER, walk
from flows.reference import seed_mapping, seed_rows
from flows.sample.people import FIRST_NAMES, LAST_NAMES
from flows.sample.survey import WAVES, survey_wave
from flows.sample.survey_shapes import write_shape
from flows.sources.common import sha256_of

DEFAULT_SURVEY_SHAPE = "surveyxact-utf16"

CASES = [
    ("C1", 101, "Frivillige mentorer for ledige unge", "labour_market_education"),
    ("C2", 461, "Lektiecafé i samarbejde med boligsocial forening", "children_youth"),
    ("C3", 657, "Besøgsvenner på plejecentre", "social_health"),
    ("C4", 825, "Borgerdrevet sundhedshus", "social_health"),
    ("C5", 510, "Idrætsforeninger i skolens understøttende undervisning", "children_youth"),
]


@dataclass(frozen=True)
class SampleManifest:
    """What was generated: the files written and the people whose names must never be published."""

    files: tuple[Path, ...]
    names: tuple[str, ...]
    emails: tuple[str, ...]


def load_municipalities() -> list[dict[str, str]]:
    return seed_rows("municipalities")


def _write_statbank_population(
    path: Path, rng: random.Random, municipalities: list[dict[str, str]], n_quarters: int
) -> Path:
    """FOLK1A as the Statbank API serves CSV: labels as values, BOM, CRLF, semicolons."""
    quarters = [f"{2015 + index // 4}K{index % 4 + 1}" for index in range(n_quarters)]
    by_region: dict[str, list[dict[str, str]]] = {}
    for municipality in municipalities:
        by_region.setdefault(municipality["regionsnavn"], []).append(municipality)
    lines = ["OMRÅDE;TID;INDHOLD"]
    series: dict[str, list[int]] = {}
    for municipality in municipalities:
        level = int(municipality["folketal"]) * rng.uniform(0.94, 0.99)
        values = []
        for _ in quarters:
            level *= rng.uniform(0.998, 1.004)
            values.append(round(level))
        series[municipality["kommunekode"]] = values
    for index, quarter in enumerate(quarters):
        total = sum(values[index] for values in series.values())
        lines.append(f"Hele landet;{quarter};{total}")
    for region, members in sorted(by_region.items()):
        for index, quarter in enumerate(quarters):
            lines.append(f"{region};{quarter};{sum(series[m['kommunekode']][index] for m in members)}")
    for municipality in municipalities:
        for index, quarter in enumerate(quarters):
            lines.append(f"{municipality['navn']};{quarter};{series[municipality['kommunekode']][index]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def _write_case_register(directory: Path, rng: random.Random, scale: int, names: list[str]) -> list[Path]:
    """The researchers' case-tracking sheets: semicolon-separated, Danish labels and dates."""
    directory.mkdir(parents=True, exist_ok=True)
    knowledge_areas = seed_mapping("knowledge_areas", "knowledge_area", "knowledge_area_name_da")
    activity_types = seed_mapping("activity_types", "activity_type", "activity_type_name_da")
    informant_roles = seed_mapping("informant_roles", "informant_role", "informant_role_name_da")
    cases = io.StringIO()
    writer = csv.writer(cases, delimiter=";", lineterminator="\r\n")
    writer.writerow(["case_id", "kommunekode", "indsats", "vidensomraade", "feltarbejde_start", "feltarbejde_slut"])
    for case_id, code, title, area in CASES:
        writer.writerow([case_id, code, title, knowledge_areas[area], "01.09.2016", "31.03.2017"])
    activities = io.StringIO()
    writer = csv.writer(activities, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "aktivitet_id",
            "case_id",
            "type",
            "dato",
            "informant_navn",
            "informant_rolle",
            "antal_deltagere",
            "samtykke",
            "optagelse",
            "transskriberet",
        ]
    )
    number = 0
    for case_id, *_ in CASES:
        for _ in range(scale):
            for activity_type, label in activity_types.items():
                for _ in range(rng.randint(1, 4)):
                    number += 1
                    day = datetime(2016, 9, 1) + timedelta(days=rng.randint(0, 200))
                    has_informant = activity_type in ("individual_interview", "group_interview", "spot_interview")
                    role = rng.choice(list(informant_roles)) if has_informant else ""
                    if activity_type == "group_interview":
                        role = "citizen"
                    informant = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" if has_informant else ""
                    if informant:
                        names.append(informant)
                    # Desk research has no participants: the sheet leaves the cell empty.
                    participants = {
                        "group_interview": rng.randint(4, 9),
                        "participant_observation": rng.randint(5, 30),
                        "desk_research": "",
                    }.get(activity_type, 1)
                    recorded = activity_type in ("individual_interview", "group_interview")
                    writer.writerow(
                        [
                            f"A{number:04d}",
                            case_id,
                            label,
                            day.strftime("%d.%m.%Y"),
                            informant,
                            informant_roles.get(role, ""),
                            participants,
                            "ja" if has_informant else "",
                            "ja" if recorded else "nej",
                            "ja" if recorded and rng.random() < 0.8 else "nej",
                        ]
                    )
    paths = [directory / "case_studies.csv", directory / "fieldwork_activities.csv"]
    paths[0].write_text(cases.getvalue(), encoding="utf-8")
    paths[1].write_text(activities.getvalue(), encoding="utf-8")
    return paths


def generate_sample(
    landing_dir: Path,
    scale: int = 1,
    seed: int = 2016,
    survey_shape: str = DEFAULT_SURVEY_SHAPE,
    waves: tuple[str, ...] = tuple(WAVES),
) -> SampleManifest:
    """Write the embedded sample into `landing_dir` and say what was written.

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
        export = survey_wave(wave_id, rng, municipalities, names, emails)
        files += write_shape(export, landing_dir / "survey", survey_shape)
    for extra in range(1, scale):
        # Larger scales re-export the first wave (each record again, under new respondent ids), for benchmarks.
        export = survey_wave("2016", rng, municipalities, names, emails, export_name=f"samskabelse_2016_{extra + 1}")
        files += write_shape(export, landing_dir / "survey", survey_shape)
    files.append(
        _write_statbank_population(
            landing_dir / "statbank" / "FOLK1A_kommuner.csv", rng, municipalities, n_quarters=8 * scale
        )
    )
    files += _write_case_register(landing_dir / "cases", rng, scale, names)
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


def landing_holds_only_the_sample(landing_dir: Path) -> bool:
    """True when every file in the landing zone is an unchanged file of the generated sample.

    The same walk as ingest's: a symbolic link anywhere (which ingest refuses) means it is not the sample.
    """
    marker_path = landing_dir / SAMPLE_MARKER
    if not marker_path.is_file() or marker_path.is_symlink():
        return False
    known = json.loads(marker_path.read_text(encoding="utf-8")).get("files", {})
    files, links = walk(landing_dir)
    delivered = [path for path in files if not (path.parent == landing_dir and path.name in PLATFORM_FILES)]
    return (
        not links
        and bool(delivered)
        and all(known.get(path.relative_to(landing_dir).as_posix()) == sha256_of(path) for path in delivered)
    )
