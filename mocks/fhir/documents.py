"""DocumentReference and Binary: an invitation letter per upcoming EHR appointment.

Each booked, upcoming EHR appointment has a DocumentReference (category `invitation`
in `https://fhir.helsegraf.dev/CodeSystem/document-category`) whose only content is a
plain-text attachment at the relative url `Binary/{id}`; the Binary has the same id as
its DocumentReference and `context.related` points to the Appointment.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Iterator

from mocks.fhir.appointments import as_of
from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    DOCUMENT_CATEGORY_SYSTEM,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    ref,
)
from mocks.population import Person
from mocks.records import Appointment, Catalogue

STATUS_SYSTEM = "http://hl7.org/fhir/document-reference-status"


def invitations(
    appointments: Iterable[Appointment], person: Person, catalogue: Catalogue, today: dt.date
) -> Iterator[tuple[Indexed, Indexed]]:
    """(DocumentReference, Binary) pairs, one per booked upcoming EHR appointment."""
    now = as_of(today)
    for item in appointments:
        if item.system == "ehr" and item.status == "booked" and item.start >= now:
            yield _invitation(item, person, catalogue, today)


def _letter(item: Appointment, person: Person, catalogue: Catalogue) -> tuple[str, str]:
    pract = catalogue.practitioner_by_id[item.practitioner_id]
    place = catalogue.location_by_id[item.location_id]
    title = f"Innkalling: {item.service}"
    how = (
        "Timen er en videokonsultasjon. Lenke til videomøtet finner du i timeavtalen."
        if item.video
        else "Møt opp 15 minutter før timen og ta med gyldig legitimasjon."
    )
    text = (
        f"{title}\n\nHei {person.given_name},\n\n"
        f"Du har time {item.start:%d.%m.%Y} kl. {item.start:%H:%M} hos "
        f"{pract.given} {pract.family} ved {place.name}, {place.street}, {place.city}.\n"
        f"{how}\n\nMed vennlig hilsen\n{place.name}\n"
    )
    return title, text


def _invitation(
    item: Appointment, person: Person, catalogue: Catalogue, today: dt.date
) -> tuple[Indexed, Indexed]:
    doc_id = compound_id(person.fhir_id, f"{item.id}-inv")
    written = min(item.start - dt.timedelta(days=30), as_of(today))
    title, text = _letter(item, person, catalogue)
    data = text.encode()
    patient = ref("Patient", person.fhir_id)
    document: Resource = {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "meta": labelled(meta(written), item.security),
        "status": "current",
        "docStatus": "final",
        "type": {"text": "Innkallingsbrev"},
        "category": [
            {
                "coding": [
                    {
                        "system": DOCUMENT_CATEGORY_SYSTEM,
                        "code": "invitation",
                        "display": "Innkalling",
                    }
                ]
            }
        ],
        "subject": patient,
        "date": instant(written),
        "author": [ref("Practitioner", item.practitioner_id)],
        "description": title,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "language": "nb",
                    "url": f"Binary/{doc_id}",
                    "size": len(data),
                    "title": title,
                    "creation": instant(written),
                }
            }
        ],
        "context": {"related": [ref("Appointment", compound_id(person.fhir_id, item.id))]},
    }
    binary: Resource = {
        "resourceType": "Binary",
        "id": doc_id,
        "meta": labelled(meta(written), item.security),
        "contentType": "text/plain",
        "securityContext": patient,
        "data": base64.b64encode(data).decode(),
    }
    patient_ref = f"Patient/{person.fhir_id}"
    indexed = Indexed(
        document,
        dates={"date": Span.instant(written)},
        tokens={
            "status": ((STATUS_SYSTEM, "current"),),
            "category": ((DOCUMENT_CATEGORY_SYSTEM, "invitation"),),
        },
        refs={
            "patient": (patient_ref,),
            "subject": (patient_ref,),
            "related": (f"Appointment/{compound_id(person.fhir_id, item.id)}",),
        },
    )
    return indexed, Indexed(binary)
