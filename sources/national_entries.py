"""The national portal's JSON entries as typed records: a person's registry facts, a
regular GP, critical information, a power of attorney, an e-prescription, a vaccination.

Each parser raises KeyError, TypeError or ValueError on a malformed entry, which the client
(`sources.national`) turns into `UpstreamBadResponse` for the whole read (a person without
a birth date raises `UpstreamBadResponse` itself).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from authz.facts import NO_LABELS, Address, PersonFacts, PowerOfAttorney, Security
from sources.errors import UpstreamBadResponse
from sources.models import (
    NATIONAL,
    CriticalEntry,
    GpOffice,
    MedicationEntry,
    RegularGp,
    VaccinationEntry,
)

SOURCE = "NATIONAL"
RESERVED = Security(reserved_from_guardians=True)
CRITICAL_KINDS = frozenset({"allergy", "implant", "condition"})


def day(value: Any) -> dt.date | None:
    """A YYYY-MM-DD text as a date; None when absent or empty."""
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def active(prescription: dict[str, Any]) -> bool:
    """Only a prescription the register calls active is; any other status has ended."""
    return bool(prescription.get("status", "active") == "active")


def facts(item: dict[str, Any]) -> PersonFacts:
    """A person's registry entry as the facts access decisions rest on."""
    address = item.get("address")
    born = day(item.get("birthDate"))
    if born is None:
        raise UpstreamBadResponse(SOURCE, "persons", "person without birth date")
    return PersonFacts(
        nin=item["nin"],
        given_name=item.get("givenName", ""),
        family_name=item.get("familyName", ""),
        birth_date=born,
        address=Address(
            address.get("street", ""), address.get("postalCode", ""), address.get("city", "")
        )
        if address
        else None,
        municipality=item.get("municipality"),
        address_protection=item.get("addressProtection"),
        lives_abroad=bool(item.get("livesAbroad")),
        youth_consent=bool(item.get("youthConsent")),
        deceased_date=day(item.get("deceasedDate")),
        children=tuple(c["childNin"] for c in item.get("parentalResponsibility", [])),
        parents=tuple(p["nin"] for p in item.get("parents", []) if p.get("parentalResponsibility")),
    )


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _required(value: Any) -> str:
    text = _text(value)
    if text is None:
        raise ValueError("a required text is missing")
    return text


def _office(office: Any) -> GpOffice | None:
    if office is None:
        return None
    if not isinstance(office, dict):
        raise TypeError("office is not an object")
    street, city = _text(office.get("street")), _text(office.get("city"))
    return GpOffice(
        name=_required(office.get("name")),
        address=Address(street or "", "", city or "") if street or city else None,
        phone=_text(office.get("phone")),
    )


def gp(item: dict[str, Any]) -> RegularGp:
    """A regular-GP listing: the doctor and the office."""
    doctor = item["gp"]
    return RegularGp(
        name=_required(doctor["name"]),
        hpr_number=_text(doctor.get("hprNumber")),
        office=_office(item.get("office")),
    )


def critical(item: dict[str, Any]) -> CriticalEntry:
    """An allergy, implant or condition; an unknown kind refuses the whole list."""
    kind = item["type"]
    if kind not in CRITICAL_KINDS:
        # never drop critical information silently: the whole list is refused instead
        raise ValueError("unknown critical-information type")
    return CriticalEntry(
        id=_required(item["id"]),
        kind=kind,
        text=_required(item["text"]),
        registered_on=day(item.get("registeredOn")),
    )


def power(p: dict[str, Any]) -> PowerOfAttorney:
    """A power of attorney (the holder's or the grantor's)."""
    return PowerOfAttorney(
        id=p["id"],
        grantor=p["grantorNin"],
        holder=p["holderNin"],
        kind=p["kind"],
        service_areas=tuple(p.get("serviceAreas", ())),
        valid_from=day(p["validFrom"]) or dt.date.min,
        valid_to=day(p.get("validTo")),
    )


def prescription(p: dict[str, Any]) -> MedicationEntry:
    """An e-prescription, active or ended."""
    return MedicationEntry(
        id=p["id"],
        source=NATIONAL,
        atc=p.get("atc"),
        name=p["name"],
        form=p.get("form"),
        dosage=p.get("dosage"),
        started=day(p.get("issuedOn")),
        security=RESERVED if p.get("reservedFromGuardians") else NO_LABELS,
        active=active(p),
        ended_on=None if active(p) else day(p.get("validTo")),
    )


def vaccination(v: dict[str, Any]) -> VaccinationEntry:
    """A vaccination in the national registry."""
    return VaccinationEntry(
        id=v["id"],
        source=NATIONAL,
        atc=v.get("atc"),
        name=v["name"],
        date=dt.date.fromisoformat(v["date"]),
    )
