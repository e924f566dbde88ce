"""A Helsenorge-like national portal: registry facts, powers of attorney, e-prescriptions,
national vaccinations, GPs, critical information and vaccination statistics, as REST/JSON.

Every endpoint is `POST .../_search` with the persons named in the body. Unknown persons
are simply absent from results, as in a registry search. Person entries carry
`youthConsent` (`{"grantedOn": date}` or null) and list every registered parent, those
without parental responsibility with `"parentalResponsibility": false`; prescriptions
carry `reservedFromGuardians`. `/statistics/vaccination-coverage/_search` takes optional
`municipality` and `vaccine` (ATC) filters and answers exact `rows` (see `statistics.py`).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.population import Person, PowerOfAttorney
from mocks.records import MedicationUse, Practitioner, RecordStore, VaccinationRecord
from mocks.rest import PAGE_FIELDS, JsonResponse, bad_request, create_json_api, read_body
from mocks.rest import stable_int as _h
from mocks.statistics import coverage

_PROTECTION = {"6": "strictlyConfidential", "7": "confidential"}
_CRITICAL = (
    ("allergy", "Penicillinallergi, anafylaktisk reaksjon"),
    ("allergy", "Allergi mot peanøtter"),
    ("allergy", "Allergi mot jodholdig kontrastmiddel"),
    ("implant", "Pacemaker"),
    ("implant", "Mekanisk hjerteklaff"),
    ("condition", "Diabetes type 1"),
    ("condition", "Binyrebarksvikt (Addisons sykdom)"),
    ("condition", "Bruker blodfortynnende (warfarin)"),
)


def youth_consent_granted(person: Person) -> dt.date | None:
    """When a parent recorded consent to the person's own youth access (a month after
    their 13th birthday), or None without consent."""
    if not person.youth_consent:
        return None
    born = person.birth_date
    thirteen = born.replace(
        year=born.year + 13, day=28 if (born.month, born.day) == (2, 29) else born.day
    )
    return thirteen + dt.timedelta(days=30)


def person_json(
    person: Person, parents: list[str], non_custodial: Sequence[str] = ()
) -> dict[str, Any]:
    """A registry entry; confidential addresses and emigrants' addresses are withheld.

    `parents` hold parental responsibility; `non_custodial` are registered parents
    without it, listed with `"parentalResponsibility": false`."""
    code = person.confidential_address
    granted = youth_consent_granted(person)
    protection = None if code is None else _PROTECTION.get(code, "strictlyConfidential")
    address = person.address
    shown = protection is None and not person.lives_abroad
    keep_municipality = protection != "strictlyConfidential" and not person.lives_abroad
    return {
        "nin": person.nin,
        "givenName": person.given_name,
        "familyName": person.family_name,
        "birthDate": person.birth_date.isoformat(),
        "sex": "female" if person.female else "male",
        "address": (
            {"street": address.street, "postalCode": address.postal_code, "city": address.city}
            if shown
            else None
        ),
        "municipality": address.municipality if keep_municipality else None,
        "addressProtection": protection,
        "livesAbroad": person.lives_abroad,
        "deceasedDate": person.deceased.isoformat() if person.deceased else None,
        "parentalResponsibility": [{"childNin": child} for child in person.children],
        "parents": [{"nin": nin, "parentalResponsibility": True} for nin in parents]
        + [{"nin": nin, "parentalResponsibility": False} for nin in non_custodial],
        "youthConsent": {"grantedOn": granted.isoformat()} if granted else None,
    }


def hpr_number(practitioner: Practitioner) -> str:
    """The practitioner's (synthetic) number in the health personnel register."""
    return str(9_100_000 + int(practitioner.id.removeprefix("pr")))


def _poa_json(poa: PowerOfAttorney) -> dict[str, Any]:
    return {
        "id": poa.id,
        "grantorNin": poa.grantor,
        "holderNin": poa.holder,
        "kind": poa.kind,
        "serviceAreas": list(poa.areas),
        "validFrom": poa.valid_from.isoformat(),
        "validTo": poa.valid_to.isoformat() if poa.valid_to else None,
    }


def _vaccination_json(vaccination: VaccinationRecord) -> dict[str, Any]:
    return {
        "id": vaccination.id,
        "atc": vaccination.atc,
        "name": vaccination.name,
        "date": vaccination.date.isoformat(),
        "registry": "SYSVAK",
    }


class _National:
    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.population = store.population
        catalogue = store.catalogue
        self.doctors = [p for p in catalogue.practitioners if p.role == "Lege"]
        self.doctors = self.doctors or catalogue.practitioners
        self.offices = catalogue.locations_of_kind("gp") or catalogue.locations

    def _doctor(self, key: str) -> dict[str, str]:
        doctor = self.doctors[_h(key) % len(self.doctors)]
        return {"name": f"{doctor.given} {doctor.family}", "hprNumber": hpr_number(doctor)}

    async def persons(self, request: Request) -> Response:
        nins = (await read_body(request, "nins")).nins("nins")
        found = (self.population.by_nin(nin) for nin in nins)
        people = [
            person_json(
                p,
                self.population.parents_of(p.nin),
                self.population.non_custodial_parents_of(p.nin),
            )
            for p in found
            if p
        ]
        return JsonResponse({"persons": people})

    async def powers(self, request: Request) -> Response:
        body = await read_body(request, "holderNin", "grantorNin", *PAGE_FIELDS)
        if ("holderNin" in body.data) == ("grantorNin" in body.data):
            raise bad_request("Give exactly one of holderNin and grantorNin.")
        if "holderNin" in body.data:
            nin = body.nin("holderNin")
            powers, key = self.population.powers_for_holder(nin), f"poa:holder:{nin}"
        else:
            nin = body.nin("grantorNin")
            powers, key = self.population.powers_from_grantor(nin), f"poa:grantor:{nin}"
        items, token = body.page(key).take(powers)
        return JsonResponse(
            {"powersOfAttorney": [_poa_json(p) for p in items], "nextPageToken": token}
        )

    def _prescription(self, med: MedicationUse) -> dict[str, Any]:
        rx = med.prescription_id or ""
        # renewed within the last year, so every listed prescription is still valid -
        # but those that ended, which expired a year after they were issued
        issued = max(med.started, self.population.today - dt.timedelta(days=_h(rx) % 300))
        if med.ended is not None:
            issued = med.ended - dt.timedelta(days=365)
        return {
            "id": rx,
            "atc": med.atc,
            "name": med.name,
            "form": med.form,
            "dosage": med.dosage,
            "issuedOn": issued.isoformat(),
            "validTo": (issued + dt.timedelta(days=365)).isoformat(),
            "status": "active" if med.ended is None else "expired",
            "reservedFromGuardians": med.reserved_from_guardians,
            "prescriber": self._doctor(f"prescriber:{rx}"),
        }

    async def prescriptions(self, request: Request) -> Response:
        body = await read_body(request, "nin", *PAGE_FIELDS)
        nin = body.nin("nin")
        meds = []
        if self.population.by_nin(nin) is not None:
            meds = [m for m in self.store.record(nin).medications if m.prescription_id]
        items, token = body.page(f"prescriptions:{nin}").take(meds)
        rx = [self._prescription(m) for m in items]
        return JsonResponse({"prescriptions": rx, "nextPageToken": token})

    async def vaccinations(self, request: Request) -> Response:
        body = await read_body(request, "nin", *PAGE_FIELDS)
        nin = body.nin("nin")
        found = []
        if self.population.by_nin(nin) is not None:
            found = [v for v in self.store.record(nin).vaccinations if v.national]
        items, token = body.page(f"vaccinations:{nin}").take(found)
        shots = [_vaccination_json(v) for v in items]
        return JsonResponse({"vaccinations": shots, "nextPageToken": token})

    def _gp(self, person: Person) -> dict[str, Any]:
        # one list (fastlege) per household, at an office in the home municipality if any;
        # at a confidential address the office must not give the municipality away
        home = f"{person.address.street}|{person.address.postal_code}|{person.address.city}"
        local = [o for o in self.offices if o.city == person.address.city] or self.offices
        if person.confidential_address is not None:
            home, local = f"protected|{person.nin}", self.offices
        office = local[_h(f"office:{home}") % len(local)]
        digits = f"{_h(f'phone:{office.id}') % 1_000_000:06d}"
        return {
            "nin": person.nin,
            "gp": self._doctor(f"gp:{home}"),
            "office": {
                "name": office.name,
                "street": office.street,
                "city": office.city,
                "phone": f"+47 73 {digits[:2]} {digits[2:4]} {digits[4:]}",
            },
        }

    async def gps(self, request: Request) -> Response:
        nins = (await read_body(request, "nins")).nins("nins")
        found = (self.population.by_nin(nin) for nin in nins)
        listed = [p for p in found if p and not p.deceased and not p.lives_abroad]
        return JsonResponse({"gps": [self._gp(p) for p in listed]})

    def _critical(self, person: Person) -> list[dict[str, Any]]:
        rng = random.Random(f"critical:{self.population.seed}:{person.nin}")
        chosen = rng.sample(_CRITICAL, rng.choice((0, 0, 0, 0, 0, 1, 1, 2)))
        today = self.population.today
        return [
            {
                "id": f"ci{_h(f'critical:{person.nin}:{text}') % 10**12:012d}",
                "type": kind,
                "text": text,
                "registeredOn": max(
                    person.birth_date, today - dt.timedelta(days=rng.randint(30, 3650))
                ).isoformat(),
            }
            for kind, text in chosen
        ]

    async def coverage(self, request: Request) -> Response:
        body = await read_body(request, "municipality", "vaccine")
        municipality = body.data.get("municipality")
        vaccine = body.data.get("vaccine")
        if municipality is not None and not (
            isinstance(municipality, str) and re.fullmatch(r"\d{4}", municipality, re.ASCII)
        ):
            raise bad_request("municipality must be a four-digit municipality code.")
        if vaccine is not None and not (
            isinstance(vaccine, str) and re.fullmatch(r"J07[A-Z]{2}\d{2}", vaccine, re.ASCII)
        ):
            raise bad_request("vaccine must be an ATC code of a vaccine (J07, 7 characters).")
        table = await anyio.to_thread.run_sync(coverage, self.store)
        rows = [
            r.json()
            for r in table
            if (municipality is None or r.municipality == municipality)
            and (vaccine is None or r.vaccine == vaccine)
        ]
        return JsonResponse({"rows": rows})

    async def critical(self, request: Request) -> Response:
        body = await read_body(request, "nin", *PAGE_FIELDS)
        nin = body.nin("nin")
        person = self.population.by_nin(nin)
        found = self._critical(person) if person else []
        items, token = body.page(f"critical:{nin}").take(found)
        return JsonResponse({"criticalInformation": items, "nextPageToken": token})


def create_national_app(store: RecordStore) -> Starlette:
    """The national-portal mock over `store`'s population and records."""
    api = _National(store)
    return create_json_api(
        [
            Route("/persons/_search", api.persons, methods=["POST"]),
            Route("/powers-of-attorney/_search", api.powers, methods=["POST"]),
            Route("/prescriptions/_search", api.prescriptions, methods=["POST"]),
            Route("/vaccinations/_search", api.vaccinations, methods=["POST"]),
            Route("/gp/_search", api.gps, methods=["POST"]),
            Route("/critical-information/_search", api.critical, methods=["POST"]),
            Route("/statistics/vaccination-coverage/_search", api.coverage, methods=["POST"]),
        ]
    )
