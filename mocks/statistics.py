"""Vaccination coverage: exact counts by municipality, age band and vaccine.

Computed once per record store, lazily, from the population and its national
vaccination records (residents only: not the deceased, not emigrants), then served
from memory. A person counts as vaccinated against an ATC code when the national
registry holds at least one dose of it. Counts are exact; suppressing small cells is
the gateway's job.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass

from mocks.population import MUNICIPALITIES
from mocks.records import RecordStore

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-5", 0, 5),
    ("6-12", 6, 12),
    ("13-17", 13, 17),
    ("18-66", 18, 66),
    ("67+", 67, 200),
)


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """One cell: how many of `population` residents have had `vaccine`."""

    municipality: str
    age_band: str
    vaccine: str
    vaccinated: int
    population: int

    def json(self) -> dict[str, str | int]:
        """The row as the national API writes it."""
        return {
            "municipality": self.municipality,
            "ageBand": self.age_band,
            "vaccine": self.vaccine,
            "vaccinated": self.vaccinated,
            "population": self.population,
        }


def age_band(age: int) -> str:
    """The band an age falls in."""
    return next(name for name, low, high in AGE_BANDS if low <= age <= high)


_TABLES: weakref.WeakKeyDictionary[RecordStore, tuple[CoverageRow, ...]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def coverage(store: RecordStore) -> tuple[CoverageRow, ...]:
    """Every (municipality, age band, vaccine) cell, vaccines seen anywhere; cached."""
    with _LOCK:
        table = _TABLES.get(store)
        if table is None:
            table = _TABLES[store] = _compute(store)
        return table


def _compute(store: RecordStore) -> tuple[CoverageRow, ...]:
    today = store.population.today
    residents: Counter[tuple[str, str]] = Counter()
    vaccinated: Counter[tuple[str, str, str]] = Counter()
    vaccines: set[str] = set()
    for person in store.population:
        if person.deceased is not None or person.lives_abroad:
            continue
        cell = (person.address.municipality, age_band(person.age_on(today)))
        residents[cell] += 1
        for atc in {v.atc for v in store.vaccinations(person) if v.national}:
            vaccinated[(*cell, atc)] += 1
            vaccines.add(atc)
    return tuple(
        CoverageRow(m.code, band, atc, vaccinated[(m.code, band, atc)], residents[(m.code, band)])
        for m in MUNICIPALITIES
        for band, _, _ in AGE_BANDS
        for atc in sorted(vaccines)
    )
