"""The facts the rules read: who a person is by the registries, powers of attorney, item labels.

Plain frozen records with no behaviour beyond display: the sources fill them from the
upstreams (`sources.national`, `sources.fhir`, ...), and the rules in `authz` decide from
them. They live on the ground floor so that the rules import nothing above it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Security:
    """What an item's source says about who may see it (FHIR security labels and friends).

    The gateway's item filters (`authz.filters`) decide from these; sources only report.
    """

    confidentiality: str | None = None  # v3 Confidentiality: N, R, V, ...
    sensitivity: frozenset[str] = frozenset()  # v3 ActCode sensitivity: PSY, ETH, HIV, ...
    not_shown_electronically: bool = False  # withheld from the portal for everyone
    kept_from_guardians: bool = False  # a 12-15-year-old asked to keep it from guardians
    reserved_from_guardians: bool = False  # an e-prescription reserved from guardians
    release_category: int | None = None  # laboratory release category 1-4
    reviewed_at: dt.datetime | None = None  # clinician review (release category 2)
    released_at: dt.datetime | None = None  # manual release (release category 3)
    written_by_guardian: bool = False  # a message a parent sent on the child's behalf


NO_LABELS = Security()
# What a municipality keeps from a 12-15-year-old's guardians (its own label, read as such).
KEPT_FROM_GUARDIANS = Security(kept_from_guardians=True)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    street: str
    postal_code: str
    city: str


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the population registry says about one person."""

    nin: str = field(repr=False)
    given_name: str
    family_name: str
    birth_date: dt.date
    address: Address | None
    municipality: str | None
    address_protection: str | None  # None | "confidential" | "strictlyConfidential"
    lives_abroad: bool
    deceased_date: dt.date | None
    youth_consent: bool = False  # a recorded parental consent to youth access (13-15)
    children: tuple[str, ...] = field(default=(), repr=False)  # under parental responsibility
    parents: tuple[str, ...] = field(default=(), repr=False)  # with parental responsibility

    @property
    def name(self) -> str:
        """Display name."""
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True, slots=True)
class PowerOfAttorney:
    """A registered power of attorney."""

    id: str
    grantor: str = field(repr=False)
    holder: str = field(repr=False)
    kind: str
    service_areas: tuple[int, ...]
    valid_from: dt.date
    valid_to: dt.date | None
