"""Patient, Practitioner and Location resources.

A Patient's id is `Person.fhir_id` (opaque, never the identity number); the identity
number is its only identifier. Confidential addresses (codes 6 and 7) are left out.
Practitioners and Locations keep the catalogue's ids (`pr00001`, `loc0001`).
"""

from __future__ import annotations

import datetime as dt

from mocks.fhir.model import HPR_SYSTEM, NIN_SYSTEM, Indexed, Resource, Span, meta
from mocks.population import OSLO, Person
from mocks.records import Location, Practitioner

GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"


def patient(person: Person, today: dt.date) -> Indexed:
    """The Patient resource for one person."""
    gender = "female" if person.female else "male"
    updated = dt.datetime(today.year, today.month, today.day, 6, tzinfo=OSLO) - dt.timedelta(
        days=30 + person.index % 300
    )
    resource: Resource = {
        "resourceType": "Patient",
        "id": person.fhir_id,
        "meta": meta(updated),
        "identifier": [{"use": "official", "system": NIN_SYSTEM, "value": person.nin}],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": person.name,
                "family": person.family_name,
                "given": [person.given_name],
            }
        ],
        "gender": gender,
        "birthDate": person.birth_date.isoformat(),
    }
    if person.deceased is not None:
        resource["deceasedDateTime"] = person.deceased.isoformat()
    if person.confidential_address is None:
        address = person.address
        resource["address"] = [
            {
                "use": "home",
                "type": "physical",
                "line": [address.street],
                "postalCode": address.postal_code,
                "city": address.city,
                "district": address.municipality,
                "country": "NO",
            }
        ]
    return Indexed(
        resource,
        dates={"birthdate": Span.day(person.birth_date)},
        tokens={
            "identifier": ((NIN_SYSTEM, person.nin),),
            "gender": ((GENDER_SYSTEM, gender),),
        },
    )


def practitioner(entry: Practitioner, index: int, today: dt.date) -> Indexed:
    """A Practitioner from the catalogue, with a synthetic HPR number."""
    updated = dt.datetime(today.year - 1, 1, 2, 8, tzinfo=OSLO)
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": entry.id,
        "meta": meta(updated),
        "identifier": [{"system": HPR_SYSTEM, "value": str(9_100_000 + index * 37)}],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": f"{entry.given} {entry.family}",
                "family": entry.family,
                "given": [entry.given],
            }
        ],
        "gender": "female" if entry.female else "male",
        "qualification": [{"code": {"text": entry.role}}],
    }
    return Indexed(resource)


def location(entry: Location, today: dt.date) -> Indexed:
    """A Location from the catalogue."""
    updated = dt.datetime(today.year - 1, 1, 2, 8, tzinfo=OSLO)
    kind = {"hospital": "Sykehus", "gp": "Legekontor", "municipal": "Kommunal helsetjeneste"}
    resource: Resource = {
        "resourceType": "Location",
        "id": entry.id,
        "meta": meta(updated),
        "status": "active",
        "name": entry.name,
        "mode": "instance",
        "type": [{"text": kind.get(entry.kind, entry.kind)}],
        "address": {"use": "work", "line": [entry.street], "city": entry.city, "country": "NO"},
    }
    return Indexed(resource)
