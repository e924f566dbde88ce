"""Requests for access to one's journal, as FHIR `Task`s.

A request is a Task with `intent` order, `code` from `.../CodeSystem/journal-request`
(copy | access | correction), `for` and `requester` the Patient, `authoredOn`, the
journal period asked about as an `input` of type `.../CodeSystem/journal-request-input`
`period` (valuePeriod), and the patient's message as a `note`. The record staff move it
from `requested` to `in-progress` and then `completed` or `rejected`.

Every person has one earlier request, completed, derived from the seed and their
identity; new ones are created through the API (`writers/task.py`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from mocks.fhir.model import (
    PROFILE_BASE,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    record_identifier,
    ref,
)
from mocks.population import OSLO, Person
from mocks.record_types import record_id

KIND_SYSTEM = PROFILE_BASE + "CodeSystem/journal-request"
INPUT_SYSTEM = PROFILE_BASE + "CodeSystem/journal-request-input"
STATUS_SYSTEM = "http://hl7.org/fhir/task-status"
KINDS = {
    "copy": "Kopi av journal",
    "access": "Innsyn i journal",
    "correction": "Retting av journal",
}


def journal_requests(person: Person, today: dt.date, seed: int) -> Iterator[Indexed]:
    """The person's earlier requests."""
    rng = random.Random(f"journal-requests:{seed}:{person.nin}")
    authored = dt.datetime.combine(
        today - dt.timedelta(days=rng.randint(60, 400)), dt.time(10, 15), tzinfo=OSLO
    )
    rid = record_id("tk", f"{person.nin}:journal-request:0")
    resource: Resource = {
        "resourceType": "Task",
        "id": compound_id(person.fhir_id, rid),
        "meta": meta(authored + dt.timedelta(days=12)),
        "identifier": [record_identifier(rid)],
        "status": "completed",
        "intent": "order",
        "code": kind_concept(rng.choice(("copy", "access"))),
        "for": ref("Patient", person.fhir_id),
        "requester": ref("Patient", person.fhir_id),
        "authoredOn": instant(authored),
        "lastModified": instant(authored + dt.timedelta(days=12)),
    }
    yield indexed(resource)


def kind_concept(kind: str) -> Resource:
    """The Task.code of a request kind."""
    return {"coding": [{"system": KIND_SYSTEM, "code": kind, "display": KINDS[kind]}]}


def indexed(resource: Resource) -> Indexed:
    """A journal-request Task with its search keys."""
    authored = dt.datetime.fromisoformat(resource["authoredOn"])
    patient_ref = resource["for"]["reference"]
    codes = tuple((c.get("system"), c["code"]) for c in resource["code"]["coding"] if "code" in c)
    return Indexed(
        resource,
        dates={"authored-on": Span.instant(authored)},
        tokens={"status": ((STATUS_SYSTEM, resource["status"]),), "code": codes},
        refs={"patient": (patient_ref,), "subject": (patient_ref,)},
    )
