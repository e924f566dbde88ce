"""A deterministic synthetic population shared by every mock upstream.

People, families and powers of attorney live here; their health records live in
`mocks.records`. The same seed and reference date always give the same population, so
tests can name fixed personas (`kari`, `ola`, ...) and benchmarks can ask for 100,000
generated people without anything random leaking between runs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from mocks.identity import synthetic_national_id
from mocks.personas import CHILDREN, HOMES, NON_CUSTODIAL_CHILDREN, PERSONAS, POWERS
from mocks.registry import (
    MUNICIPALITIES,
    MUNICIPALITY_BY_CODE,
    OSLO,
    Address,
    Municipality,
    Person,
    PowerOfAttorney,
    oslo_today,
    years_before,
)

__all__ = [
    "MUNICIPALITIES",
    "MUNICIPALITY_BY_CODE",
    "OSLO",
    "Address",
    "Municipality",
    "Person",
    "Population",
    "PowerOfAttorney",
    "oslo_today",
    "years_before",
]

GIVEN_F = ("Kari", "Ingrid", "Anne", "Marit", "Liv", "Nora", "Emma", "Sofie", "Ida", "Maja")
GIVEN_M = ("Ola", "Per", "Jan", "Lars", "Knut", "Jonas", "Emil", "Jakob", "Filip", "Noah")
FAMILY = ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl")
STREETS = ("Storgata", "Kirkegata", "Parkveien", "Skolegata", "Fjordveien", "Bakkeveien")


@dataclass
class Population:
    """Fixed personas first, then `size` generated people in households of one to five."""

    size: int = 1000
    seed: int = 20261123
    today: dt.date = field(default_factory=oslo_today)

    def __post_init__(self) -> None:
        self._people: list[Person] = []
        self._by_nin: dict[str, int] = {}
        self._by_fhir: dict[str, int] = {}
        self._persona_index: dict[str, int] = {}
        self._parents: dict[str, list[str]] = {}
        self._non_custodial: dict[str, list[str]] = {}
        self.powers_of_attorney: list[PowerOfAttorney] = []
        self._by_holder: dict[str, list[PowerOfAttorney]] = {}
        self._by_grantor: dict[str, list[PowerOfAttorney]] = {}
        self._poa_index_size = -1
        self._build_personas()
        self._build_generated()
        for person in self._people:
            for child in person.children:
                self._parents.setdefault(child, []).append(person.nin)
            for child in person.non_custodial_children:
                self._non_custodial.setdefault(child, []).append(person.nin)

    # -- look-ups ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Person]:
        return iter(self._people)

    def __len__(self) -> int:
        return len(self._people)

    def persona(self, key: str) -> Person:
        """A fixed persona by key (`kari`, `ola`, ...); KeyError names unknown keys."""
        try:
            return self._people[self._persona_index[key]]
        except KeyError:
            raise KeyError(f"no mock persona named {key!r}; known: {self.persona_keys}") from None

    @property
    def persona_keys(self) -> list[str]:
        """The keys of every fixed persona."""
        return list(self._persona_index)

    def by_nin(self, nin: str) -> Person | None:
        """The person with this national id, if any."""
        index = self._by_nin.get(nin)
        return None if index is None else self._people[index]

    def by_fhir_id(self, fhir_id: str) -> Person | None:
        """The person whose EHR Patient id this is, if any."""
        index = self._by_fhir.get(fhir_id)
        return None if index is None else self._people[index]

    def parents_of(self, nin: str) -> list[str]:
        """National ids of those with registered parental responsibility for `nin`."""
        return list(self._parents.get(nin, ()))

    def non_custodial_parents_of(self, nin: str) -> list[str]:
        """National ids of registered parents of `nin` WITHOUT parental responsibility."""
        return list(self._non_custodial.get(nin, ()))

    def powers_for_holder(self, nin: str) -> list[PowerOfAttorney]:
        """Powers of attorney held by `nin`."""
        return list(self._powers_index()[0].get(nin, ()))

    def powers_from_grantor(self, nin: str) -> list[PowerOfAttorney]:
        """Powers of attorney granted by `nin`."""
        return list(self._powers_index()[1].get(nin, ()))

    def _powers_index(
        self,
    ) -> tuple[dict[str, list[PowerOfAttorney]], dict[str, list[PowerOfAttorney]]]:
        if self._poa_index_size != len(self.powers_of_attorney):
            self._by_holder = {}
            self._by_grantor = {}
            for power in self.powers_of_attorney:
                self._by_holder.setdefault(power.holder, []).append(power)
                self._by_grantor.setdefault(power.grantor, []).append(power)
            self._poa_index_size = len(self.powers_of_attorney)
        return self._by_holder, self._by_grantor

    # -- changes the registry records while the mocks run --------------------------------

    def revoke_power(self, power_id: str) -> None:
        """The power of attorney `power_id` is revoked: gone from every search."""
        self.powers_of_attorney[:] = [p for p in self.powers_of_attorney if p.id != power_id]
        self._poa_index_size = -1

    def end_parental_responsibility(self, parent: str, child: str) -> None:
        """`parent` loses parental responsibility for `child` (a court order, say), and
        stays registered as a parent without it."""
        index = self._by_nin[parent]
        person = self._people[index]
        self._people[index] = replace(
            person,
            children=tuple(c for c in person.children if c != child),
            non_custodial_children=(*person.non_custodial_children, child),
        )
        self._parents[child] = [p for p in self._parents.get(child, ()) if p != parent]
        self._non_custodial.setdefault(child, []).append(parent)

    @cached_property
    def adults(self) -> list[Person]:
        """Every person 18 or older on the reference date."""
        return [p for p in self._people if p.age_on(self.today) >= 18]

    # -- construction ---------------------------------------------------------------------

    def _add(self, person: Person) -> None:
        self._by_nin[person.nin] = person.index
        self._by_fhir[person.fhir_id] = person.index
        if person.persona:
            self._persona_index[person.persona] = person.index
        self._people.append(person)

    def _unique_nin(self, born: dt.date, female: bool, serial: int) -> str:
        for attempt in range(0, 500, 7):
            nin = synthetic_national_id(born, serial + attempt, female=female)
            if nin not in self._by_nin:
                return nin
        raise ValueError("ran out of synthetic identity numbers for one birth date")

    def _build_personas(self) -> None:
        nins: dict[str, str] = {}
        # Identity numbers depend on the serial, so the original six keep theirs: children
        # before parents among them, then every later persona in table order.
        order = sorted(PERSONAS, key=lambda s: (PERSONAS.index(s) >= 6, s.key in CHILDREN))
        for serial, spec in enumerate(order):
            born = years_before(self.today, spec.age, spec.days_past_birthday)
            nins[spec.key] = self._unique_nin(born, spec.female, serial * 37)
        for spec in PERSONAS:
            self._add(
                Person(
                    index=len(self._people),
                    nin=nins[spec.key],
                    given_name=spec.given,
                    family_name=spec.family,
                    birth_date=years_before(self.today, spec.age, spec.days_past_birthday),
                    female=spec.female,
                    address=Address(*HOMES[spec.home]),
                    confidential_address=spec.confidential,
                    lives_abroad=spec.abroad,
                    children=tuple(nins[c] for c in CHILDREN.get(spec.key, ())),
                    non_custodial_children=tuple(
                        nins[c] for c in NON_CUSTODIAL_CHILDREN.get(spec.key, ())
                    ),
                    youth_consent=spec.youth_consent,
                    persona=spec.key,
                )
            )
        for n, power in enumerate(POWERS):
            self.powers_of_attorney.append(
                PowerOfAttorney(
                    id=f"poa-{n:06d}",
                    grantor=nins[power.grantor],
                    holder=nins[power.holder],
                    kind=power.kind,
                    areas=power.areas,
                    valid_from=self.today - dt.timedelta(days=400),
                    valid_to=self.today + dt.timedelta(days=power.ends_in_days),
                )
            )

    def _build_generated(self) -> None:
        rng = random.Random(self.seed)
        made = 0
        household = 0
        while made < self.size:
            household += 1
            muni = MUNICIPALITIES[household % len(MUNICIPALITIES)]
            family = rng.choice(FAMILY)
            address = Address(
                f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                f"{rng.randint(1000, 9999)}",
                muni.name,
                muni.code,
            )
            adults = min(rng.choice((1, 2, 2)), self.size - made)
            kids = min(rng.choice((0, 0, 1, 2, 3)), self.size - made - adults)
            child_nins: list[str] = []
            kid_people: list[Person] = []
            for _ in range(kids):
                female = rng.random() < 0.5
                born = years_before(self.today, rng.randint(0, 17), rng.randint(0, 364))
                nin = self._unique_nin(born, female, rng.randint(0, 498))
                given = rng.choice(GIVEN_F if female else GIVEN_M)
                kid_people.append(
                    Person(
                        len(self._people) + len(kid_people),
                        nin,
                        given,
                        family,
                        born,
                        female,
                        address,
                    )
                )
                child_nins.append(nin)
            for kid in kid_people:
                self._by_nin[kid.nin] = kid.index  # reserve the number
            adult_people: list[Person] = []
            for _ in range(adults):
                female = rng.random() < 0.5
                age = rng.randint(25 if kids else 18, 55 if kids else 95)
                born = years_before(self.today, age, rng.randint(0, 364))
                nin = self._unique_nin(born, female, rng.randint(0, 498))
                self._by_nin[nin] = -1
                adult_people.append(
                    Person(
                        index=0,
                        nin=nin,
                        given_name=rng.choice(GIVEN_F if female else GIVEN_M),
                        family_name=family,
                        birth_date=born,
                        female=female,
                        address=address,
                        children=tuple(child_nins),
                    )
                )
            for kid in kid_people:
                self._add(kid)
            for adult in adult_people:
                self._add(_reindex(adult, len(self._people)))
            made += kids + adults
        # A few generated powers of attorney, between generated adults.
        generated_adults = [
            p for p in self._people if p.persona is None and p.age_on(self.today) >= 18
        ]
        for n in range(len(generated_adults) // 50):
            grantor, holder = rng.sample(generated_adults, 2)
            self.powers_of_attorney.append(
                PowerOfAttorney(
                    id=f"poa-g{n:06d}",
                    grantor=grantor.nin,
                    holder=holder.nin,
                    kind=rng.choice(("full", "standard", "read-only", "communicate-only")),
                    areas=(1, 3),
                    valid_from=self.today - dt.timedelta(days=rng.randint(1, 900)),
                    valid_to=self.today + dt.timedelta(days=rng.randint(1, 900)),
                )
            )


def _reindex(person: Person, index: int) -> Person:
    return replace(person, index=index)
