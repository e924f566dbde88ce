"""AuditEvent resources: the EHR's own log of who opened a patient's record.

Each patient has 2 to 6 events within the last 180 days: a nurse or doctor read the
record. `type` is DICOM 110110 "Patient Record", `action` R, `agent[0].who.display` the
clinician's name and `agent[0].role[0].text` their role, `entity[0].what` the Patient
and `source.observer.display` "Helseplattformen". Derived from the seed and the
Patient id, so the log is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from mocks.fhir.appointments import as_of
from mocks.fhir.model import Indexed, Resource, Span, compound_id, instant, meta, ref
from mocks.population import Person
from mocks.record_types import Practitioner, record_id
from mocks.records import Catalogue

DCM = "http://dicom.nema.org/resources/ontology/DCM"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ACTION_SYSTEM = "http://hl7.org/fhir/audit-event-action"
OBSERVER = "Helseplattformen"
_ROLES = ("Lege", "Sykepleier")


def audit_events(
    person: Person, catalogue: Catalogue, today: dt.date, seed: int
) -> Iterator[Indexed]:
    """The patient's access log, oldest first."""
    rng = random.Random(f"audit:{seed}:{person.fhir_id}")
    staff = [p for p in catalogue.practitioners if p.role in _ROLES]
    now = as_of(today)
    times = sorted(
        now - dt.timedelta(days=rng.randint(1, 180), minutes=rng.randint(0, 600))
        for _ in range(rng.randint(2, 6))
    )
    for n, recorded in enumerate(times):
        yield _event(person, rng.choice(staff), recorded, record_id("ae", f"{person.nin}:{n}"))


def _event(person: Person, pract: Practitioner, recorded: dt.datetime, event_id: str) -> Indexed:
    name = f"{pract.given} {pract.family}"
    resource: Resource = {
        "resourceType": "AuditEvent",
        "id": compound_id(person.fhir_id, event_id),
        "meta": meta(recorded),
        "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": INTERACTION, "code": "read", "display": "read"}],
        "action": "R",
        "recorded": instant(recorded),
        "outcome": "0",
        "agent": [
            {
                "role": [{"text": pract.role}],
                "who": ref("Practitioner", pract.id, name),
                "requestor": True,
            }
        ],
        "source": {
            "site": "St. Olavs hospital",
            "observer": {"display": OBSERVER},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": [
            {
                "what": ref("Patient", person.fhir_id, "Pasientjournal"),
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        ],
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"date": Span.instant(recorded)},
        tokens={"action": ((ACTION_SYSTEM, "R"),), "type": ((DCM, "110110"),)},
        refs={
            "patient": (patient_ref,),
            "entity": (patient_ref,),
            "agent": (f"Practitioner/{pract.id}",),
        },
    )
