"""Communication resources, from the EHR's messages (`system == "ehr"`).

Threads: every message of a thread carries the same logical `partOf` reference,
`{"identifier": {"system": "https://fhir.helsegraf.dev/NamingSystem/message-thread",
"value": <thread id>}}`, and every reply has `inResponseTo` pointing to the message
before it. `topic.text` is the thread's subject line and `payload[0].contentString` the
text. The extension `https://fhir.helsegraf.dev/StructureDefinition/patient-read`
(valueBoolean) is false while the patient has not read a message, true otherwise;
the custom search parameter `patient-read` (token `true|false`) matches on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    PATIENT_READ_URL,
    THREAD_SYSTEM,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    record_identifier,
    ref,
)
from mocks.population import Person
from mocks.records import Catalogue, Message
from mocks.registry import MUNICIPALITY_BY_CODE

STATUS_SYSTEM = "http://hl7.org/fhir/event-status"
COUNTERPART_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/message-counterpart"
RECIPIENT_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/message-recipient"


def on_shared_ehr(person: Person) -> bool:
    """True when the person's municipality keeps its messages in this EHR."""
    municipality = MUNICIPALITY_BY_CODE.get(person.address.municipality)
    return municipality is not None and municipality.on_shared_ehr and not person.lives_abroad


def in_ehr(message: Message, person: Person) -> bool:
    """True when this EHR keeps the message: the hospital's own, and the municipality's
    when the person's municipality is on the shared EHR."""
    return message.system == "ehr" or (message.system == "municipal" and on_shared_ehr(person))


def counterpart_category(kind: str) -> list[Resource]:
    """`Communication.category`: which kind of care-side party the message is with."""
    return [{"coding": [{"system": COUNTERPART_SYSTEM, "code": kind}]}]


def communications(
    messages: Iterable[Message], person: Person, catalogue: Catalogue
) -> Iterator[Indexed]:
    """The person's EHR messages as Communications, thread by thread in sent order."""
    previous: dict[str, str] = {}  # thread id -> id of the latest Communication in it
    for message in messages:
        if not in_ehr(message, person):
            continue
        item = _communication(message, person, catalogue, previous.get(message.thread_id))
        previous[message.thread_id] = item.id
        yield item


def _communication(
    message: Message, person: Person, catalogue: Catalogue, replying_to: str | None
) -> Indexed:
    pract = catalogue.practitioner_by_id[message.practitioner_id]
    patient = ref("Patient", person.fhir_id, person.name)
    clinician = ref("Practitioner", pract.id, f"{pract.given} {pract.family}")
    kind = "hospital"
    if message.system == "municipal":  # the municipality's office, a logical reference
        code = person.address.municipality
        name = f"{MUNICIPALITY_BY_CODE[code].name} kommune"
        clinician = {
            "identifier": {"system": RECIPIENT_SYSTEM, "value": f"municipality:{code}"},
            "display": name,
        }
        kind = "municipality"
    kind = message.counterpart or kind
    sender, recipient = (patient, clinician) if message.from_patient else (clinician, patient)
    resource: Resource = {
        "resourceType": "Communication",
        "id": compound_id(person.fhir_id, message.id),
        "meta": labelled(meta(message.sent_at), message.security),
        "extension": [{"url": PATIENT_READ_URL, "valueBoolean": message.read}],
        "identifier": [record_identifier(message.id)],
        "partOf": [{"identifier": {"system": THREAD_SYSTEM, "value": message.thread_id}}],
        "status": "completed",
        "category": counterpart_category(kind),
        "subject": ref("Patient", person.fhir_id),
        "topic": {"text": message.subject},
        "sent": instant(message.sent_at),
        "recipient": [recipient],
        "sender": sender,
        "payload": [{"contentString": message.text}],
    }
    if replying_to is not None:
        resource["inResponseTo"] = [ref("Communication", replying_to)]
    when = Span.instant(message.sent_at)
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"sent": when, "date": when},
        tokens={
            "status": ((STATUS_SYSTEM, "completed"),),
            "patient-read": ((None, "true" if message.read else "false"),),
        },
        refs={
            "patient": (patient_ref,),
            "subject": (patient_ref,),
            "sender": (sender["reference"],) if "reference" in sender else (),
            "recipient": (recipient["reference"],) if "reference" in recipient else (),
        },
    )
