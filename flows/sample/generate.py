"""Generate the embedded study sample: synthetic landing files in the shapes the platform reads.

Deterministic for a given seed and scale. Scale 1 is the study itself: one survey round to the heads of
eight sector areas in all 98 municipalities, eight quarters of Statbank population, five case studies.
A larger scale adds further survey rounds (separate exports) and longer registry history, for benchmarks.

The sample carries the quirks of real deliveries on purpose: SurveyXact's UTF-16 tab-separated export
with truncated variable names, a trailing empty column and header-less labels; Statbank's BOM, CRLF,
semicolons, labels instead of codes and Danish quarters; a case sheet written by hand in Danish.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flows.landing import PLATFORM_FILES, SAMPLE_MARKER, walk
from flows.reference import seed_mapping, seed_rows
from flows.sample.survey_shapes import GeneratedExport, write_shape
from flows.sources.common import sha256_of

QUESTIONNAIRE_PATH = Path(__file__).with_name("questionnaire.json")
DEFAULT_SURVEY_SHAPE = "surveyxact-utf16"

FIRST_NAMES = [
    "Anne",
    "Mette",
    "Hanne",
    "Kirsten",
    "Susanne",
    "Lene",
    "Camilla",
    "Louise",
    "Maria",
    "Pia",
    "Peter",
    "Jens",
    "Lars",
    "Michael",
    "Henrik",
    "Søren",
    "Thomas",
    "Niels",
    "Rasmus",
    "Morten",
]
LAST_NAMES = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
]

# Chance that each partner type is met at each frequency (always/often, sometimes, seldom, never, don't know).
PARTNER_FREQUENCY_WEIGHTS = [
    (0.45, 0.30, 0.15, 0.05, 0.05),
    (0.40, 0.30, 0.15, 0.10, 0.05),
    (0.15, 0.30, 0.30, 0.20, 0.05),
    (0.30, 0.30, 0.20, 0.15, 0.05),
    (0.35, 0.30, 0.20, 0.10, 0.05),
    (0.05, 0.15, 0.30, 0.40, 0.10),
    (0.10, 0.20, 0.30, 0.35, 0.05),
    (0.05, 0.20, 0.35, 0.30, 0.10),
]
MOTIVE_SHARES = [0.55, 0.50, 0.50, 0.30, 0.25, 0.05, 0.08]

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


def sector_areas() -> dict[int, str]:
    return seed_mapping("sector_areas", "sector_area_code", "sector_area_name_da")


def status_labels() -> dict[int, str]:
    return seed_mapping("respondent_statuses", "status_code", "status_name_da")


def scale_labels(scale_id: str) -> dict[str, str]:
    """Answer code -> Danish label of one answer scale, in answer order."""
    rows = sorted(
        (row for row in seed_rows("answer_scales") if row["scale_id"] == scale_id),
        key=lambda row: int(row["sort_order"]),
    )
    return {row["answer_code"]: row["answer_label_da"] for row in rows}


def questionnaire_items(question: dict) -> list[str]:
    """The items of a battery or the choices of a multiple-choice question, from the seed it names."""
    if "items_from" not in question:
        return []
    seed, column = question["items_from"].split(".")
    return [row[column] for row in seed_rows(seed)]


def _slug(text: str) -> str:
    ascii_text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    ascii_text = unicodedata.normalize("NFKD", ascii_text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text).strip("-")


def _timestamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _survey_columns(questionnaire: dict) -> list[dict]:
    """The export's variables in SurveyXact order, with the structure file's fields."""
    columns = [
        dict(question="x_exclude", variable="x_exclude", type="Closed", sub="Single", text="Udeladt"),
        dict(question="survey", variable="survey", type="Closed", sub="Single", text="Undersøgelse"),
        dict(question="respondentid", variable="responde", type="Open", sub="Double", text="Respondent-ID"),
        dict(question="created", variable="created", type="Open", sub="Date", text="Oprettet"),
        dict(question="modified", variable="modified", type="Open", sub="Date", text="Ændret"),
        dict(question="closeTime", variable="closetim", type="Open", sub="Date", text="Afsluttet"),
        dict(question="startTime", variable="starttim", type="Open", sub="Date", text="Påbegyndt"),
        dict(question="diffTime", variable="difftime", type="Open", sub="Double", text="Svartid (sekunder)"),
        dict(question="email", variable="email", type="Open", sub="String", text="E-mail"),
        dict(question="name", variable="name", type="Open", sub="String", text="Navn"),
        dict(question="kommune", variable="kommune", type="Closed", sub="Single", text="Kommune"),
        dict(question="sektor", variable="sektor", type="Closed", sub="Single", text="Sektorområde"),
    ]
    for question in questionnaire["questions"]:
        items = questionnaire_items(question)
        if not items:
            columns.append(
                dict(
                    question=question["question"],
                    variable=question["question"],
                    type=question["type"],
                    sub=question["sub_type"],
                    text=question["text"],
                )
            )
            continue
        for number, item in enumerate(items, start=1):
            multiple = question["sub_type"] == "Multiple"
            columns.append(
                dict(
                    question=question["question"],
                    variable=f"{question['question']}_{number}",
                    type=question["type"],
                    sub=question["sub_type"],
                    text=question["text"] if multiple else f"{question['text']} - {item}",
                    choice_value=str(number) if multiple else "",
                    choice_text=item if multiple else "",
                )
            )
    for code, label in status_labels().items():
        columns.append(
            dict(
                question="statoverall",
                variable=f"stato_{code}",
                type="Closed",
                sub="Multiple",
                text="Samlet status",
                choice_value=str(code),
                choice_text=label,
            )
        )
    return columns


def _answers(rng: random.Random, status: int, questionnaire: dict) -> dict[str, str]:
    """Synthetic answers of one respondent; partial respondents stop part-way through."""
    answers: dict[str, str] = {}
    if status not in (3, 4):
        return answers
    answers["q1"] = rng.choices(["1", "2", "9"], weights=[0.82, 0.12, 0.06])[0]
    answers["q2"] = rng.choices(["1", "2", "9"], weights=[0.35, 0.55, 0.10])[0]
    for number, weights in enumerate(PARTNER_FREQUENCY_WEIGHTS, start=1):
        answers[f"q3_{number}"] = rng.choices(["1", "2", "3", "4", "9"], weights=weights)[0]
    for number, share in enumerate(MOTIVE_SHARES, start=1):
        answers[f"q4_{number}"] = "1" if rng.random() < share else "0"
    if status == 3:
        # A dropout: everything after a random item is left blank.
        order = ["q1", "q2", *[f"q3_{n}" for n in range(1, 9)], *[f"q4_{n}" for n in range(1, 8)]]
        stop = rng.randint(1, len(order) - 1)
        for variable in order[stop:]:
            answers.pop(variable)
    return answers


def _survey_round(
    export_name: str,
    round_number: int,
    rng: random.Random,
    municipalities: list[dict[str, str]],
    questionnaire: dict,
    names: list[str],
    emails: list[str],
) -> GeneratedExport:
    """One survey round to every sector-area head of every municipality, as SurveyXact holds it."""
    columns = _survey_columns(questionnaire)
    survey_id = 2016000 + round_number
    base_time = datetime(2016, 3, 1, 9, 0, 0) + timedelta(days=365 * (round_number - 1))
    records: list[dict[str, str]] = []
    respondent_id = 90_000_000 + round_number * 100_000
    for municipality in municipalities:
        domain = f"{_slug(municipality['navn'])}.dk"
        for sector_code in sector_areas():
            respondent_id += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            email = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}@{domain}"
            status = rng.choices([2, 3, 4, 5], weights=[0.47, 0.08, 0.43, 0.02])[0]
            record = _respondent_record(
                rng,
                base_time,
                respondent_id,
                survey_id,
                status,
                questionnaire,
                municipality["kommunekode"],
                sector_code,
                name,
                email,
            )
            records.append(record)
            names.append(name)
            emails.append(email)
    # One head answered twice: the second record is a later, complete resubmission.
    first_complete = next(r for r in records if r["stato_4"] == "1")
    respondent_id += 1
    resubmission = _respondent_record(
        rng,
        base_time + timedelta(days=20),
        respondent_id,
        survey_id,
        4,
        questionnaire,
        first_complete["kommune"],
        int(first_complete["sektor"]),
        first_complete["name"],
        first_complete["email"],
    )
    records.append(resubmission)

    labels = _label_rows(columns, municipalities, questionnaire, survey_id)
    return GeneratedExport(export_name, questionnaire["title"], columns, records, labels)


def _respondent_record(
    rng: random.Random,
    base_time: datetime,
    respondent_id: int,
    survey_id: int,
    status: int,
    questionnaire: dict,
    municipality_code: str,
    sector_code: int,
    name: str,
    email: str,
) -> dict[str, str]:
    created = base_time + timedelta(minutes=rng.randint(0, 600))
    record = {
        "x_exclude": str(survey_id),
        "survey": str(survey_id),
        "responde": str(respondent_id),
        "created": _timestamp(created),
        "email": email,
        "name": name,
        "kommune": municipality_code,
        "sektor": str(sector_code),
    }
    for code in status_labels():
        record[f"stato_{code}"] = "1" if code == status else "0"
    modified = created
    if status in (3, 4):
        started = created + timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 900))
        duration = rng.randint(240, 2400)
        record["starttim"] = _timestamp(started)
        if status == 4:
            closed = started + timedelta(seconds=duration)
            record["closetim"] = _timestamp(closed)
            record["difftime"] = f"{duration}.{rng.randint(0, 999):03d}"
            modified = closed
        else:
            modified = started + timedelta(seconds=duration // 3)
        record.update(_answers(rng, status, questionnaire))
        if status == 4 and rng.random() < 0.3:
            colleague = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            record["q5"] = (
                f"Vi samarbejder med den lokale forening om aktiviteter for borgerne; "
                f"kontakt: {colleague} eller {email}"
            )
    record["modified"] = _timestamp(modified)
    return record


def _label_rows(
    columns: list[dict], municipalities: list[dict[str, str]], questionnaire: dict, survey_id: int
) -> list[tuple[str, str, str]]:
    rows = [
        ("x_exclude", str(survey_id), "Denne værdi skal ikke gemmes"),
        ("survey", str(survey_id), questionnaire["title"]),
    ]
    rows += [("kommune", m["kommunekode"], f"{m['navn']} Kommune") for m in municipalities]
    rows += [("sektor", str(code), label) for code, label in sector_areas().items()]
    scales = {q["question"]: scale_labels(q["scale"]) for q in questionnaire["questions"] if "scale" in q}
    for column in columns:
        question = column["question"]
        if column["variable"].startswith("stato_"):
            rows += [(column["variable"], value, label) for value, label in scale_labels("selected").items()]
        elif scales.get(question):
            rows += [(column["variable"], value, label) for value, label in scales[question].items()]
    return rows


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
    landing_dir: Path, scale: int = 1, seed: int = 2016, survey_shape: str = DEFAULT_SURVEY_SHAPE
) -> SampleManifest:
    """Write the embedded sample into `landing_dir` and say what was written.

    `survey_shape` is the shape of the survey exports (one of survey_shapes.SHAPES; SurveyXact's
    tab-separated UTF-16 export by default). Returns the files and the synthetic names and e-mails, so
    tests can prove none is published.
    """
    if scale < 1:
        raise ValueError(f"scale must be 1 or more, got {scale}")
    rng = random.Random(seed)
    municipalities = load_municipalities()
    questionnaire = json.loads(QUESTIONNAIRE_PATH.read_text(encoding="utf-8"))
    names: list[str] = []
    emails: list[str] = []
    files: list[Path] = []
    for round_number in range(1, scale + 1):
        export = _survey_round(
            f"samskabelse_{2015 + round_number}", round_number, rng, municipalities, questionnaire, names, emails
        )
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
