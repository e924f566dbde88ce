"""The questionnaire forms the mock EHR holds, as `Questionnaire` resources (a small
directory outside every compartment): title, kind as `code` in
`https://fhir.helsegraf.dev/CodeSystem/questionnaire-kind`, and the items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mocks.fhir.model import PROFILE_BASE, Indexed, Resource, meta
from mocks.population import OSLO
from mocks.record_types import PLAIN, Labels

KIND_SYSTEM = PROFILE_BASE + "CodeSystem/questionnaire-kind"
ANSWER_SYSTEM = PROFILE_BASE + "CodeSystem/answer"
PSY = Labels(sensitivity=("PSY",))

# (linkId, text, type, required, options or max length)
Item = tuple[str, str, str, bool, tuple[str, ...] | int | None]


@dataclass(frozen=True, slots=True)
class Form:
    """One questionnaire definition."""

    id: str
    title: str
    kind: str
    items: tuple[Item, ...]
    labels: Labels = PLAIN


FORMS: dict[str, Form] = {
    f.id: f
    for f in (
        Form(
            "q-general-health",
            "Egenerklæring om helse",
            "general",
            (
                ("smoker", "Røyker du?", "boolean", True, None),
                ("height", "Høyde (cm)", "integer", True, None),
                ("weight", "Vekt (kg)", "decimal", False, None),
                ("health", "Hvordan er helsen din?", "choice", True, ("good", "fair", "poor")),
                ("allergies", "Allergier", "string", False, 500),
                ("last-checkup", "Siste legesjekk", "date", False, None),
            ),
        ),
        Form(
            "q-pre-visit",
            "Før timen",
            "pre-visit",
            (
                ("reason", "Hva ønsker du hjelp med?", "string", True, 1000),
                ("pain", "Smerte nå (0-10)", "integer", True, None),
                ("medicines-changed", "Har medisinene endret seg?", "boolean", True, None),
            ),
        ),
        Form(
            "q-mental-health",
            "Spørsmål om psykisk helse",
            "general",
            (
                ("interest", "Lite interesse eller glede", "choice", True, ("0", "1", "2", "3")),
                ("mood", "Nedstemt eller håpløs", "choice", True, ("0", "1", "2", "3")),
            ),
            PSY,
        ),
        Form(
            "q-follow-up",
            "Oppfølging etter behandling",
            "follow-up",
            (
                ("better", "Er du bedre?", "boolean", True, None),
                ("comment", "Kommentar", "string", False, 500),
            ),
        ),
        Form(
            "q-pregnancy",
            "Svangerskapsskjema",
            "pregnancy",
            (
                ("first-pregnancy", "Er dette ditt første svangerskap?", "boolean", True, None),
                ("weight-before", "Vekt før svangerskapet (kg)", "decimal", True, None),
                ("nausea", "Kvalme", "choice", False, ("none", "some", "much")),
            ),
        ),
    )
}
_OPTION_TEXT = {
    "good": "God",
    "fair": "Middels",
    "poor": "Dårlig",
    "none": "Ingen",
    "some": "Litt",
    "much": "Mye",
}


def questionnaire(form: Form, today: dt.date) -> Indexed:
    """The Questionnaire resource of a form."""
    items: list[Resource] = []
    for link_id, text, type_, required, extra in form.items:
        item: Resource = {"linkId": link_id, "text": text, "type": type_, "required": required}
        if isinstance(extra, tuple):
            item["answerOption"] = [
                {
                    "valueCoding": {
                        "system": ANSWER_SYSTEM,
                        "code": c,
                        "display": _OPTION_TEXT.get(c, c),
                    }
                }
                for c in extra
            ]
        elif isinstance(extra, int):
            item["maxLength"] = extra
        items.append(item)
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": form.id,
        "meta": meta(dt.datetime(2025, 1, 1, tzinfo=OSLO)),
        "url": f"{PROFILE_BASE}Questionnaire/{form.id}",
        "name": form.id.replace("-", "_"),
        "title": form.title,
        "status": "active",
        "subjectType": ["Patient"],
        "code": [{"system": KIND_SYSTEM, "code": form.kind}],
        "item": items,
    }
    return Indexed(
        resource, tokens={"status": (("http://hl7.org/fhir/publication-status", "active"),)}
    )
