"""The population registry's words: municipalities, addresses, persons, powers of attorney."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality with its own care-services upstream."""

    code: str
    name: str
    on_shared_ehr: bool


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("5001", "Trondheim", on_shared_ehr=True),
    Municipality("5037", "Levanger", on_shared_ehr=False),
    Municipality("0301", "Oslo", on_shared_ehr=False),
    Municipality("4601", "Bergen", on_shared_ehr=False),
)
MUNICIPALITY_BY_CODE = {m.code: m for m in MUNICIPALITIES}


@dataclass(frozen=True, slots=True)
class Address:
    """A registered (folkeregistrert) address."""

    street: str
    postal_code: str
    city: str
    municipality: str  # municipality code


@dataclass(frozen=True, slots=True)
class PowerOfAttorney:
    """A registered power of attorney (fullmakt) from `grantor` to `holder`."""

    id: str
    grantor: str  # national id
    holder: str  # national id
    kind: str  # full | standard | read-only | communicate-only
    areas: tuple[int, ...]  # Helsenorge service areas
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic person as the population registry knows them."""

    index: int
    nin: str
    given_name: str
    family_name: str
    birth_date: dt.date
    female: bool
    address: Address
    confidential_address: str | None = None  # "6" strictly confidential, "7" confidential
    lives_abroad: bool = False
    deceased: dt.date | None = None
    children: tuple[str, ...] = ()  # national ids of children under parental responsibility
    # national ids of children registered to this parent WITHOUT parental responsibility
    non_custodial_children: tuple[str, ...] = ()
    youth_consent: bool = False  # a recorded parental consent to youth access (13-15)
    persona: str | None = None

    @property
    def name(self) -> str:
        """Display name, given name first."""
        return f"{self.given_name} {self.family_name}"

    @property
    def fhir_id(self) -> str:
        """The EHR's opaque Patient id: derived, so it never contains the national id."""
        return "e" + hashlib.sha256(f"patient:{self.nin}".encode()).hexdigest()[:20]

    def age_on(self, day: dt.date) -> int:
        """Completed years on `day`."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def years_before(day: dt.date, years: int, extra_days: int) -> dt.date:
    """The date `years` years and `extra_days` days before `day` (29 Feb safe)."""
    try:
        anniversary = day.replace(year=day.year - years)
    except ValueError:
        anniversary = day.replace(year=day.year - years, day=28)
    return anniversary - dt.timedelta(days=extra_days)


def oslo_today() -> dt.date:
    """Today's date in Europe/Oslo."""
    return dt.datetime.now(OSLO).date()
