"""The embedded sample's questionnaire rounds: two waves of the study's survey, with planted truths.

Each wave's export is written from the study mapping itself (`survey_item_map`: the wave's variables in
questionnaire order, their concept, item and answer scale; `study_concepts` for the question texts), so
the sample is exactly the questionnaire the platform is told about. Wave 2019 renames and reorders the
variables of wave 2016 and asks the partner question on a five-point scale with another don't-know code;
the study's concepts stay the same.

The answers are drawn from the shape of the published results (Ibsen & Espersen, KORA 2016), and the
tests check that the marts give these truths back:
- about half of the sector-area heads answer (completed or partial);
- 82% of those who answer yes or no report an increased focus on collaboration (86% in 2019);
- about 1 in 20 name saving money as a motive; democratic value, trust and service quality come first;
- more collaboration in operation than in policy and planning;
- barriers lie mostly inside the municipality's own organisation;
- collaborations are mostly about health, integration and social issues; two thirds have several
  partner types; associations seldom take the initiative.
Every wave also holds resubmissions (a head who answered twice) and heads outside the target group.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from samskab.common.reference import seed_mapping, seed_rows
from samskab.sample.people import FIRST_NAMES, LAST_NAMES
from samskab.sample.survey_shapes import GeneratedExport

WAVES = {
    "2016": {
        "export": "samskabelse_2016",
        "survey_id": 2016001,
        "title": "Kommunernes samarbejde med civile aktører (syntetisk spørgeskema)",
        "fieldwork_start": datetime(2016, 3, 1, 9, 0, 0),
        "open_variable": "q5",
        # not answered, partial, completed, dropped out, ineligible (status codes 2, 3, 4, 5, 6)
        "status_weights": (0.44, 0.07, 0.45, 0.02, 0.02),
        "share_increased_focus": 0.82,
    },
    "2019": {
        "export": "opfoelgning_2019",
        "survey_id": 2019001,
        "title": "Kommunernes samarbejde med civile aktører – opfølgning (syntetisk spørgeskema)",
        "fieldwork_start": datetime(2019, 3, 1, 9, 0, 0),
        "open_variable": "beskriv",
        "status_weights": (0.60, 0.05, 0.30, 0.03, 0.02),
        "share_increased_focus": 0.86,
    },
}
STATUS_CODES = (2, 3, 4, 5, 6)
OPEN_QUESTION = "Beskriv kort et konkret samarbejde med civile aktører."

# Chances of each answer category, per item in item-code order, the last being "don't know".
FREQUENCY = ("always_or_often", "sometimes", "seldom", "never", "dont_know")
EXTENT = ("high_extent", "some_extent", "low_extent", "not_at_all", "dont_know")
AGREEMENT = ("agree", "partly_agree", "neither", "partly_disagree", "disagree", "dont_know")
BATTERIES = {
    "partner_frequency": (
        FREQUENCY,
        [
            (0.45, 0.30, 0.15, 0.05, 0.05),
            (0.40, 0.30, 0.15, 0.10, 0.05),
            (0.15, 0.30, 0.30, 0.20, 0.05),
            (0.30, 0.30, 0.20, 0.15, 0.05),
            (0.35, 0.30, 0.20, 0.10, 0.05),
            (0.05, 0.15, 0.30, 0.40, 0.10),
            (0.10, 0.20, 0.30, 0.35, 0.05),
            (0.05, 0.20, 0.35, 0.30, 0.10),
        ],
    ),
    "municipal_role": (
        EXTENT,
        [
            (0.35, 0.40, 0.15, 0.05, 0.05),
            (0.40, 0.35, 0.15, 0.05, 0.05),
            (0.30, 0.40, 0.20, 0.05, 0.05),
            (0.15, 0.30, 0.30, 0.20, 0.05),
            (0.10, 0.25, 0.30, 0.30, 0.05),
        ],
    ),
    "collaboration_phase": (
        EXTENT,
        [
            (0.08, 0.22, 0.35, 0.30, 0.05),
            (0.20, 0.35, 0.25, 0.15, 0.05),
            (0.50, 0.33, 0.07, 0.05, 0.05),
            (0.10, 0.25, 0.35, 0.25, 0.05),
        ],
    ),
    "outcome": (
        AGREEMENT,
        [
            (0.30, 0.40, 0.15, 0.05, 0.03, 0.07),
            (0.35, 0.35, 0.15, 0.05, 0.03, 0.07),
            (0.25, 0.40, 0.20, 0.05, 0.03, 0.07),
            (0.20, 0.40, 0.25, 0.07, 0.03, 0.05),
            (0.05, 0.15, 0.35, 0.20, 0.15, 0.10),
        ],
    ),
    "barrier": (
        EXTENT,
        [
            (0.40, 0.35, 0.12, 0.08, 0.05),
            (0.12, 0.28, 0.32, 0.23, 0.05),
            (0.20, 0.33, 0.27, 0.15, 0.05),
            (0.12, 0.28, 0.35, 0.20, 0.05),
        ],
    ),
}
# Chance that each choice is ticked, in item-code order.
CHOICES = {
    "motive": (0.62, 0.58, 0.60, 0.40, 0.30, 0.05, 0.20),
    "collaboration_form": (0.70, 0.55, 0.50, 0.45, 0.35, 0.30),
}
# Concrete collaborations: how many a head describes, and what they are like.
CHANCE_FIRST_COLLABORATION = 0.85
CHANCE_SECOND_COLLABORATION = 0.55
TOPIC_WEIGHTS = (0.30, 0.22, 0.22, 0.08, 0.06, 0.06, 0.04, 0.02)
PARTNER_WEIGHTS = (0.30, 0.20, 0.08, 0.14, 0.14, 0.05, 0.05, 0.04)
NUMBER_OF_PARTNERS = ((1, 2, 3), (1 / 3, 0.40, 0.27))
INITIATOR_WEIGHTS = (0.62, 0.06, 0.14, 0.13, 0.05)


def item_map(wave_id: str) -> list[dict[str, str]]:
    """The wave's mapped variables in questionnaire order."""
    return [row for row in seed_rows("survey_item_map") if row["wave_id"] == wave_id]


def _codes_by_category() -> dict[str, dict[str, list[str]]]:
    """Scale -> answer category -> the answer codes that mean it."""
    codes: dict[str, dict[str, list[str]]] = {}
    for row in seed_rows("answer_scales"):
        codes.setdefault(row["scale_id"], {}).setdefault(row["answer_category"], []).append(row["answer_code"])
    return codes


def _columns(wave_id: str, open_variable: str) -> list[dict]:
    """The export's variables in SurveyXact order, with the structure file's fields."""
    concepts = {row["concept"]: row for row in seed_rows("study_concepts")}
    items = {(row["item_list"], row["item_code"]): row["item_name_da"] for row in seed_rows("study_items")}
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
    for row in item_map(wave_id):
        concept = concepts[row["concept"]]
        text = concept["question_da"]
        if row["collaboration_slot"]:
            text = f"Samarbejde {row['collaboration_slot']}: {text}"
        column = dict(
            question=row["variable_name"].rsplit("_", 1)[0] if row["item_code"] else row["variable_name"],
            variable=row["variable_name"],
            type="Closed",
            sub="Multiple" if row["scale_id"] == "selected" else "Single",
            text=text,
            scale=row["scale_id"],
        )
        if row["item_code"]:
            item = items[(concept["item_list"], row["item_code"])]
            if column["sub"] == "Multiple":
                column.update(choice_value=row["item_code"], choice_text=item)
            else:
                column["text"] = f"{text} - {item}"
        columns.append(column)
    columns.append(dict(question=open_variable, variable=open_variable, type="Open", sub="String", text=OPEN_QUESTION))
    for code, label in seed_mapping("respondent_statuses", "status_code", "status_name_da").items():
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


def _categories(rng: random.Random, wave: dict) -> dict[tuple[str, str, str], str]:
    """One head's answers as answer categories, keyed by (concept, item code, collaboration slot)."""
    answers: dict[tuple[str, str, str], str] = {}
    focus = wave["share_increased_focus"]
    answers[("increased_focus", "", "")] = rng.choices(
        ["yes", "no", "dont_know"], [0.96 * focus, 0.96 * (1 - focus), 0.04]
    )[0]
    answers[("written_policy", "", "")] = rng.choices(["yes", "no", "dont_know"], [0.35, 0.57, 0.08])[0]
    for concept, (categories, weights) in BATTERIES.items():
        for code, item_weights in enumerate(weights, start=1):
            answers[(concept, str(code), "")] = rng.choices(categories, item_weights)[0]
    for concept, shares in CHOICES.items():
        for code, share in enumerate(shares, start=1):
            answers[(concept, str(code), "")] = "selected" if rng.random() < share else "not_selected"
    n_collaborations = 0
    if rng.random() < CHANCE_FIRST_COLLABORATION:
        n_collaborations = 2 if rng.random() < CHANCE_SECOND_COLLABORATION else 1
    for slot in range(1, n_collaborations + 1):
        topics = _pick(rng, TOPIC_WEIGHTS, rng.choice((1, 1, 2)))
        partners = _pick(rng, PARTNER_WEIGHTS, rng.choices(*NUMBER_OF_PARTNERS)[0])
        initiators = _pick(rng, INITIATOR_WEIGHTS, rng.choice((1, 1, 1, 2)))
        for concept, chosen, n_items in (
            ("collaboration_topic", topics, len(TOPIC_WEIGHTS)),
            ("collaboration_partner", partners, len(PARTNER_WEIGHTS)),
            ("collaboration_initiator", initiators, len(INITIATOR_WEIGHTS)),
        ):
            for code in range(1, n_items + 1):
                answers[(concept, str(code), str(slot))] = "selected" if code in chosen else "not_selected"
    return answers


def _pick(rng: random.Random, weights: tuple[float, ...], n: int) -> set[int]:
    """`n` different item codes (1-based), drawn by weight."""
    chosen: set[int] = set()
    while len(chosen) < n:
        chosen.add(rng.choices(range(1, len(weights) + 1), weights)[0])
    return chosen


@dataclass(frozen=True)
class _Questionnaire:
    """What every record of one wave is written from, read from the seeds once per wave."""

    wave_id: str
    mapped: list[dict[str, str]]  # the wave's mapped variables in questionnaire order
    codes: dict[str, dict[str, list[str]]]  # scale -> answer category -> codes
    status_codes: list[int]

    @classmethod
    def of(cls, wave_id: str) -> _Questionnaire:
        statuses = list(seed_mapping("respondent_statuses", "status_code", "status_name_da"))
        return cls(wave_id, item_map(wave_id), _codes_by_category(), statuses)


def _answers(rng: random.Random, status: int, questionnaire: _Questionnaire) -> dict[str, str]:
    """One head's answers as the export's variables and codes; partial respondents stop part-way."""
    if status not in (3, 4):
        return {}
    categories = _categories(rng, WAVES[questionnaire.wave_id])
    answers: dict[str, str] = {}
    for row in questionnaire.mapped:
        category = categories.get((row["concept"], row["item_code"], row["collaboration_slot"]))
        if category is not None:
            answers[row["variable_name"]] = rng.choice(questionnaire.codes[row["scale_id"]][category])
    if status == 3:
        order = [row["variable_name"] for row in questionnaire.mapped]
        stop = rng.randint(1, len(order) - 1)
        for variable in order[stop:]:
            answers.pop(variable, None)
    return answers


def survey_wave(
    wave_id: str,
    rng: random.Random,
    municipalities: list[dict[str, str]],
    names: list[str],
    emails: list[str],
    export_name: str | None = None,
    rounds: int = 1,
) -> GeneratedExport:
    """One wave sent to every sector-area head of every municipality, as SurveyXact holds it.

    `rounds` above 1 (larger sample scales, for benchmarks) has every head answer again that many times
    in all, a month apart, under new respondent ids in the same export: the resubmission rule decides."""
    wave = WAVES[wave_id]
    questionnaire = _Questionnaire.of(wave_id)
    columns = _columns(wave_id, wave["open_variable"])
    survey_id = wave["survey_id"]
    records: list[dict[str, str]] = []
    respondent_id = 90_000_000 + (survey_id % 10_000_000) * 10
    for municipality in municipalities:
        domain = f"{_slug(municipality['navn'])}.dk"
        for sector_code in seed_mapping("sector_areas", "sector_area_code", "sector_area_name_da"):
            respondent_id += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            email = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}@{domain}"
            status = rng.choices(STATUS_CODES, wave["status_weights"])[0]
            head = (municipality["kommunekode"], sector_code, name, email)
            records.append(_record(rng, questionnaire, wave["fieldwork_start"], respondent_id, status, *head))
            names.append(name)
            emails.append(email)
    # Resubmissions, kept as delivered: one head completed twice (the later completion counts), one
    # completed and then started again without finishing (the completion counts, though it is older).
    completes = [record for record in records if record["stato_4"] == "1"]
    for earlier, later_status, days in ((completes[0], 4, 20), (completes[1], 3, 25)):
        respondent_id += 1
        head = (earlier["kommune"], int(earlier["sektor"]), earlier["name"], earlier["email"])
        later_start = wave["fieldwork_start"] + timedelta(days=days)
        records.append(_record(rng, questionnaire, later_start, respondent_id, later_status, *head))
    first_round = list(records)
    for extra in range(1, rounds):
        for earlier in first_round:
            respondent_id += 1
            status = rng.choices(STATUS_CODES, wave["status_weights"])[0]
            head = (earlier["kommune"], int(earlier["sektor"]), earlier["name"], earlier["email"])
            later_start = wave["fieldwork_start"] + timedelta(days=30 * extra)
            records.append(_record(rng, questionnaire, later_start, respondent_id, status, *head))
    labels = _label_rows(columns, municipalities, wave["title"], survey_id)
    return GeneratedExport(export_name or wave["export"], wave["title"], columns, records, labels)


def _record(
    rng: random.Random,
    questionnaire: _Questionnaire,
    base_time: datetime,
    respondent_id: int,
    status: int,
    municipality_code: str,
    sector_code: int,
    name: str,
    email: str,
) -> dict[str, str]:
    wave_id = questionnaire.wave_id
    survey_id = str(WAVES[wave_id]["survey_id"])
    created = base_time + timedelta(minutes=rng.randint(0, 600))
    record = {
        "x_exclude": survey_id,
        "survey": survey_id,
        "responde": str(respondent_id),
        "created": _timestamp(created),
        "email": email,
        "name": name,
        "kommune": municipality_code,
        "sektor": str(sector_code),
    }
    for code in questionnaire.status_codes:
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
            record[WAVES[wave_id]["open_variable"]] = (
                f"Vi samarbejder med den lokale forening om aktiviteter for borgerne; "
                f"kontakt: {colleague} eller {email}"
            )
    record["modified"] = _timestamp(modified)
    return record


def _label_rows(
    columns: list[dict], municipalities: list[dict[str, str]], title: str, survey_id: int
) -> list[tuple[str, str, str]]:
    rows = [
        ("x_exclude", str(survey_id), "Denne værdi skal ikke gemmes"),
        ("survey", str(survey_id), title),
    ]
    rows += [("kommune", m["kommunekode"], f"{m['navn']} Kommune") for m in municipalities]
    rows += [
        ("sektor", str(code), label)
        for code, label in seed_mapping("sector_areas", "sector_area_code", "sector_area_name_da").items()
    ]
    scales: dict[str, list[tuple[str, str]]] = {}
    for row in sorted(seed_rows("answer_scales"), key=lambda row: int(row["sort_order"])):
        scales.setdefault(row["scale_id"], []).append((row["answer_code"], row["answer_label_da"]))
    for column in columns:
        if column["variable"].startswith("stato_"):
            rows += [(column["variable"], value, label) for value, label in scales["selected"]]
        elif column.get("scale"):
            rows += [(column["variable"], value, label) for value, label in scales[column["scale"]]]
    return rows


def _slug(text: str) -> str:
    ascii_text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    ascii_text = unicodedata.normalize("NFKD", ascii_text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text).strip("-")


def _timestamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""
