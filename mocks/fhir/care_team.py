"""Care teams (`CareTeam`): who looks after a person, and how to reach them.

Every person has one active care team at a hospital department, derived from the
population seed and their identity alone. Participants reference a Practitioner
(with display), carry a role from `.../CodeSystem/care-team-role` (contact-physician,
contact-nurse, coordinator, gp), the organisation as `onBehalfOf` (display only), a
`period`, and how to reach them as the extension `.../participant-contact`
(valueContactPoint, a department's work phone; never a person's own number).
The persona `ola` also has a psychiatric care team labelled PSY.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from mocks.catalogue import Catalogue
from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    PROFILE_BASE,
    Indexed,
    Resource,
    Span,
    compound_id,
    meta,
    record_identifier,
    ref,
)
from mocks.population import OSLO, Person
from mocks.record_types import PLAIN, Labels, record_id

ROLE_SYSTEM = PROFILE_BASE + "CodeSystem/care-team-role"
CONTACT_URL = PROFILE_BASE + "StructureDefinition/participant-contact"
STATUS_SYSTEM = "http://hl7.org/fhir/care-team-status"
ROLES = {
    "contact-physician": "Kontaktlege",
    "contact-nurse": "Kontaktsykepleier",
    "coordinator": "Koordinator",
    "gp": "Fastlege",
}
PSY = Labels(sensitivity=("PSY",))


def care_teams(
    person: Person, catalogue: Catalogue, today: dt.date, seed: int
) -> Iterator[Indexed]:
    """The person's care teams."""
    rng = random.Random(f"care-team:{seed}:{person.nin}")
    hospital = rng.choice(catalogue.locations_of_kind("hospital"))
    gp_office = rng.choice(catalogue.locations_of_kind("gp"))
    roles = ["contact-physician", "contact-nurse", "gp"]
    if rng.random() < 0.5 or person.persona is not None:
        roles.append("coordinator")
    yield _team(
        person, rng, catalogue, "ct-main", hospital.name, gp_office.name, roles, today, PLAIN
    )
    if person.persona == "ola":
        yield _team(
            person,
            rng,
            catalogue,
            "ct-psy",
            "Distriktspsykiatrisk senter",
            gp_office.name,
            ["contact-physician", "coordinator"],
            today,
            PSY,
        )


def _team(
    person: Person,
    rng: random.Random,
    catalogue: Catalogue,
    key: str,
    department: str,
    gp_office: str,
    roles: list[str],
    today: dt.date,
    labels: Labels,
) -> Indexed:
    rid = record_id("ct", f"{person.nin}:{key}")
    start = today - dt.timedelta(days=rng.randint(30, 700))
    participants: list[Resource] = []
    for role in roles:
        member = rng.choice(catalogue.practitioners)
        office = gp_office if role == "gp" else department
        since = start + dt.timedelta(days=rng.randint(0, 20))
        period: Resource = {"start": since.isoformat()}
        phone = f"+47 7{rng.randint(0, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00"
        participants.append(
            {
                "extension": [
                    {
                        "url": CONTACT_URL,
                        "valueContactPoint": {"system": "phone", "value": phone, "use": "work"},
                    }
                ],
                "role": [
                    {
                        "coding": [{"system": ROLE_SYSTEM, "code": role, "display": ROLES[role]}],
                        "text": ROLES[role],
                    }
                ],
                "member": ref("Practitioner", member.id, f"{member.given} {member.family}"),
                "onBehalfOf": {"display": office},
                "period": period,
            }
        )
    updated = dt.datetime(start.year, start.month, start.day, 8, tzinfo=OSLO)
    resource: Resource = {
        "resourceType": "CareTeam",
        "id": compound_id(person.fhir_id, rid),
        "meta": labelled(meta(updated), labels),
        "identifier": [record_identifier(rid)],
        "status": "active",
        "name": f"Behandlingsteam, {department}",
        "subject": ref("Patient", person.fhir_id),
        "period": {"start": start.isoformat()},
        "participant": participants,
        "managingOrganization": [{"display": department}],
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"date": Span.day(start, open_ended=True)},
        tokens={"status": ((STATUS_SYSTEM, "active"),)},
        refs={
            "patient": (patient_ref,),
            "subject": (patient_ref,),
            "participant": tuple(p["member"]["reference"] for p in participants),
        },
    )
