"""The embedded sample's case register: five case studies as the researchers keep them in Excel.

One workbook, `cases/case_register.xlsx`, with the sheets Cases, Aktiviteter, Informanter and
Dokumenter, written by hand in Danish: labels rather than codes, Excel dates, informants by name (the
platform turns names into pseudonyms as it reads them). The study's five kinds of fieldwork
(individual and group interviews, participant observation, spot interviews, desk research) are all
there; every recorded interview has consent, one spot interview awaits it (and was not recorded).

`write_case_csv_form` writes the register's first form, two semicolon-separated sheets, for the tests
that prove it is still read.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from samskab.common.reference import seed_mapping
from samskab.sample.people import FIRST_NAMES, LAST_NAMES

FIELDWORK_START, FIELDWORK_END = date(2016, 9, 1), date(2017, 3, 31)
CASES = [
    ("C1", 101, "Frivillige mentorer for ledige unge", "labour_market_education", "Mentorforløb", "Frivilligcenter"),
    (
        "C2",
        461,
        "Lektiecafé i samarbejde med boligsocial forening",
        "children_youth",
        "Lektiehjælp",
        "Boligsocial forening",
    ),
    ("C3", 657, "Besøgsvenner på plejecentre", "social_health", "Besøgstjeneste", "Ældreforening"),
    ("C4", 825, "Borgerdrevet sundhedshus", "social_health", "Sundhedshus", "Borgergruppe"),
    (
        "C5",
        510,
        "Idrætsforeninger i skolens understøttende undervisning",
        "children_youth",
        "Bevægelsestimer",
        "Idrætsforeninger",
    ),
]
ORGANISATIONS = {
    "municipal_representative": ("municipality",),
    "civil_representative": ("association", "volunteer_group", "self_owned_institution"),
    "citizen": ("none",),
}
DOCUMENT_SOURCES = ("Kommunens hjemmeside", "Byrådets dagsorden", "Foreningens årsberetning", "Lokalavisen")


def interview_kinds() -> set[str]:
    """The kinds of activity that are interviews (seed activity_types, is_interview)."""
    return {
        kind for kind, interview in seed_mapping("activity_types", "activity_type", "is_interview").items() if interview
    }


@dataclass
class Register:
    """The register's rows, sheet by sheet, in Danish as written by hand."""

    cases: list[list[object]] = field(default_factory=list)
    activities: list[list[object]] = field(default_factory=list)
    informants: list[list[object]] = field(default_factory=list)
    documents: list[list[object]] = field(default_factory=list)


CASE_HEADER = [
    "case_id",
    "kommunekode",
    "indsats",
    "vidensomraade",
    "samskabes",
    "partnere",
    "feltarbejde_start",
    "feltarbejde_slut",
]
ACTIVITY_HEADER = [
    "aktivitet_id",
    "case_id",
    "type",
    "dato",
    "varighed_min",
    "antal_deltagere",
    "informanter",
    "samtykke",
    "optagelse",
    "transskription",
]
INFORMANT_HEADER = ["informant_id", "case_id", "navn", "rolle", "organisationstype"]
DOCUMENT_HEADER = ["dokument_id", "case_id", "type", "dato", "kilde"]


def build_register(rng: random.Random, scale: int, names: list[str]) -> Register:
    """The five cases with their informants, fieldwork and documents (more fieldwork at larger scales)."""
    danish = {
        seed: seed_mapping(seed, key, f"{key}_name_da")
        for seed, key in (
            ("knowledge_areas", "knowledge_area"),
            ("activity_types", "activity_type"),
            ("informant_roles", "informant_role"),
            ("organisation_types", "organisation_type"),
            ("consent_statuses", "consent_status"),
            ("transcript_statuses", "transcript_status"),
            ("document_kinds", "document_kind"),
        )
    }
    register = Register()
    interviews = interview_kinds()
    number = 0
    awaiting_consent = True
    for case_id, code, title, area, co_created, partners in CASES:
        register.cases.append(
            [
                case_id,
                code,
                title,
                danish["knowledge_areas"][area],
                co_created,
                partners,
                FIELDWORK_START,
                FIELDWORK_END,
            ]
        )
        informants = []
        for index in range(rng.randint(5, 8)):
            role = list(ORGANISATIONS)[index % 3]
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            names.append(name)
            informant_id = f"{case_id}-I{index + 1:02d}"
            organisation = rng.choice(ORGANISATIONS[role])
            register.informants.append(
                [
                    informant_id,
                    case_id,
                    name,
                    danish["informant_roles"][role],
                    danish["organisation_types"][organisation],
                ]
            )
            informants.append((informant_id, role))
        for _ in range(scale):
            for activity_type, label in danish["activity_types"].items():
                for _ in range(rng.randint(1, 4)):
                    number += 1
                    day = FIELDWORK_START + timedelta(days=rng.randint(0, (FIELDWORK_END - FIELDWORK_START).days))
                    ids: list[str] = []
                    if activity_type == "group_interview":
                        ids = [i for i, role in informants if role == "citizen"] or [informants[0][0]]
                    elif activity_type in interviews:
                        ids = [rng.choice(informants)[0]]
                    recorded = activity_type in ("individual_interview", "group_interview")
                    consent = "given" if activity_type in interviews else "not_needed"
                    if activity_type == "spot_interview" and awaiting_consent:
                        consent, awaiting_consent = "pending", False
                    transcript = ("done" if rng.random() < 0.8 else "in_progress") if recorded else "not_applicable"
                    participants = {
                        "group_interview": len(ids) + rng.randint(1, 3),
                        "participant_observation": rng.randint(5, 30),
                        "desk_research": None,
                    }.get(activity_type, 1)
                    duration = None if activity_type == "desk_research" else rng.choice((20, 45, 60, 90, 120))
                    register.activities.append(
                        [
                            f"A{number:04d}",
                            case_id,
                            label,
                            day,
                            duration,
                            participants,
                            ", ".join(ids) or None,
                            danish["consent_statuses"][consent],
                            "ja" if recorded else "nej",
                            danish["transcript_statuses"][transcript],
                        ]
                    )
        for index in range(rng.randint(2, 4)):
            kind = rng.choice(list(danish["document_kinds"]))
            register.documents.append(
                [
                    f"{case_id}-D{index + 1}",
                    case_id,
                    danish["document_kinds"][kind],
                    FIELDWORK_START - timedelta(days=rng.randint(0, 400)),
                    rng.choice(DOCUMENT_SOURCES),
                ]
            )
    return register


def write_case_workbook(path: Path, register: Register) -> Path:
    """The register as researchers keep it: one .xlsx workbook, a sheet per kind of row."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in (
        ("Cases", CASE_HEADER, register.cases),
        ("Aktiviteter", ACTIVITY_HEADER, register.activities),
        ("Informanter", INFORMANT_HEADER, register.informants),
        ("Dokumenter", DOCUMENT_HEADER, register.documents),
    ):
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.properties.creator = "samskab sample"
    workbook.properties.created = workbook.properties.modified = datetime(2017, 3, 31)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # The same seed writes the same bytes: every zip entry gets one fixed time, not the time of writing.
    with zipfile.ZipFile(buffer) as written, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as fixed:
        for entry in written.infolist():
            content = written.read(entry)
            if entry.filename == "docProps/core.xml":  # openpyxl stamps the time of saving as 'modified'
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2017-03-31T00:00:00Z", content)
            fixed.writestr(zipfile.ZipInfo(entry.filename, date_time=(2017, 3, 31, 0, 0, 0)), content)
    return path


def write_case_csv_form(directory: Path, register: Register) -> list[Path]:
    """The register's first form: case_studies.csv and fieldwork_activities.csv, the informant on the
    activity's row, consent and transcript as ja/nej, DD.MM.YYYY dates."""
    informants = {row[0]: row for row in register.informants}

    def day(value: object) -> str:
        return value.strftime("%d.%m.%Y") if isinstance(value, date) else ""

    cases = io.StringIO()
    writer = csv.writer(cases, delimiter=";", lineterminator="\r\n")
    writer.writerow(["case_id", "kommunekode", "indsats", "vidensomraade", "feltarbejde_start", "feltarbejde_slut"])
    for case_id, code, title, area, _, _, start, end in register.cases:
        writer.writerow([case_id, code, title, area, day(start), day(end)])
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
    for activity_id, case_id, kind, when, _, participants, ids, consent, recorded, transcript in register.activities:
        first = informants.get((ids or "").split(",")[0].strip())
        writer.writerow(
            [
                activity_id,
                case_id,
                kind,
                day(when),
                first[2] if first else "",
                first[3] if first else "",
                "" if participants is None else participants,
                "ja" if consent == "Givet" else "",
                recorded,
                "ja" if transcript == "Færdig" else "nej",
            ]
        )
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "case_studies.csv", directory / "fieldwork_activities.csv"]
    paths[0].write_text(cases.getvalue(), encoding="utf-8")
    paths[1].write_text(activities.getvalue(), encoding="utf-8")
    return paths
