"""Health records of the synthetic population, one truth that every mock projects.

Each person's records are derived from the population seed and their identity, so the
EHR, the national portal and their municipality agree about the same medicine or the
same vaccination without any of them storing the whole population. Personas get their
fixed security-relevant cases (`persona_records`); generated people get a few labels at
low rates from a stream of their own (`record_labels`), so labels never shift the rest.
Vaccinations also have their own stream, so statistics can derive them alone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from functools import lru_cache

from mocks.catalogue import (
    LABS,
    MEDICINES,
    MESSAGE_SUBJECTS,
    SERVICES_HOSPITAL,
    SERVICES_MUNICIPAL,
    VACCINES_ADULT,
    VACCINES_CHILD,
    Catalogue,
)
from mocks.persona_records import persona_cases
from mocks.population import Person, Population
from mocks.record_labels import generated_labels
from mocks.record_types import (
    PLAIN,
    Appointment,
    HealthRecord,
    Labels,
    LabResult,
    Location,
    MedicationUse,
    Message,
    Practitioner,
    VaccinationRecord,
    oslo_at,
    record_id,
)
from mocks.registry import OSLO

__all__ = [
    "PLAIN",
    "Appointment",
    "Catalogue",
    "HealthRecord",
    "LabResult",
    "Labels",
    "Location",
    "MedicationUse",
    "Message",
    "Practitioner",
    "RecordStore",
    "VaccinationRecord",
]


_pid = record_id


_at = oslo_at


class RecordStore:
    """Derives (and memoises, boundedly) each person's health record."""

    def __init__(
        self, population: Population, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        """`clock` is the mocks' now (default: the wall-clock time of day on the
        population's reference day, in Oslo); tests pin it to the gateway's clock."""
        self.population = population
        self._clock = clock
        self.catalogue = Catalogue(population.seed)
        self._hospital = self.catalogue.locations_of_kind("hospital")
        self._municipal_by_city: dict[str, list[Location]] = {}
        for loc in self.catalogue.locations_of_kind("municipal"):
            self._municipal_by_city.setdefault(loc.city, []).append(loc)
        self.record = lru_cache(maxsize=8192)(self._derive)

    def now(self) -> dt.datetime:
        """The mocks' current time, timezone-aware: what writes are stamped and checked with."""
        if self._clock is not None:
            return self._clock()
        clock = dt.datetime.now(OSLO).time().replace(microsecond=0)
        return dt.datetime.combine(self.population.today, clock, tzinfo=OSLO)

    def _derive(self, nin: str) -> HealthRecord:
        person = self.population.by_nin(nin)
        if person is None:
            raise KeyError("unknown person")
        rng = random.Random(f"{self.population.seed}:{nin}")
        today = self.population.today
        record = HealthRecord(
            appointments=self._appointments(rng, person, today),
            messages=self._messages(rng, person, today),
            labs=self._labs(rng, person, today),
            medications=self._medications(rng, person, today),
            vaccinations=self.vaccinations(person),
        )
        if person.persona is not None:
            return persona_cases(person, record, today, self.catalogue)
        return generated_labels(
            record, person, today, random.Random(f"labels:{self.population.seed}:{nin}")
        )

    def vaccinations(self, person: Person) -> tuple[VaccinationRecord, ...]:
        """The person's vaccinations alone: cheap, with their own random stream, so
        statistics over the whole population need not derive whole records."""
        rng = random.Random(f"{self.population.seed}:{person.nin}:vaccinations")
        return self._vaccinations(rng, person, self.population.today)

    def _appointments(
        self, rng: random.Random, person: Person, today: dt.date
    ) -> tuple[Appointment, ...]:
        out: list[Appointment] = []
        pract = self.catalogue.practitioners
        # at least one upcoming appointment in each system, then some history
        plan = [("ehr", rng.randint(2, 40)), ("municipal", rng.randint(3, 60))]
        plan += [
            (rng.choice(("ehr", "municipal")), rng.randint(-700, 90))
            for _ in range(rng.randint(2, 8))
        ]
        for n, (system, offset) in enumerate(plan):
            day = today + dt.timedelta(days=offset)
            start = _at(day, rng.randint(8, 15), rng.choice((0, 15, 30, 45)))
            if offset < 0:
                status = rng.choice(("fulfilled", "fulfilled", "fulfilled", "cancelled", "noshow"))
            else:
                status = rng.choice(("booked", "booked", "booked", "cancelled"))
            if n < 2:
                status = "booked"
            places = (
                self._hospital
                if system == "ehr"
                else self._municipal_by_city.get(person.address.city, self._hospital)
            )
            services = SERVICES_HOSPITAL if system == "ehr" else SERVICES_MUNICIPAL
            out.append(
                Appointment(
                    id=_pid("ap", f"{person.nin}:{n}"),
                    system=system,
                    start=start,
                    minutes=rng.choice((15, 20, 30, 45, 60)),
                    status=status,
                    service=rng.choice(services),
                    practitioner_id=rng.choice(pract).id,
                    location_id=rng.choice(places).id,
                    video=system == "ehr" and rng.random() < 0.2,
                )
            )
        return tuple(out)

    def _messages(self, rng: random.Random, person: Person, today: dt.date) -> tuple[Message, ...]:
        out: list[Message] = []
        for t in range(rng.randint(1, 4)):
            system = "ehr" if t % 2 == 0 else "municipal"
            thread = _pid("th", f"{person.nin}:{t}")
            subject = rng.choice(MESSAGE_SUBJECTS)
            practitioner = rng.choice(self.catalogue.practitioners).id
            start = today - dt.timedelta(days=rng.randint(1, 200))
            for m in range(rng.randint(1, 4)):
                from_patient = m % 2 == 1
                out.append(
                    Message(
                        id=_pid("ms", f"{person.nin}:{t}:{m}"),
                        thread_id=thread,
                        system=system,
                        sent_at=_at(start + dt.timedelta(days=m), 9 + m),
                        from_patient=from_patient,
                        practitioner_id=practitioner,
                        subject=subject,
                        text=f"{subject}: melding {m + 1} i tråden.",
                        read=from_patient or rng.random() < 0.6,
                    )
                )
        return tuple(out)

    def _labs(self, rng: random.Random, person: Person, today: dt.date) -> tuple[LabResult, ...]:
        out: list[LabResult] = []
        for r in range(rng.randint(1, 4)):
            taken = _at(today - dt.timedelta(days=rng.randint(1, 400)), 8, 30)
            report = _pid("dr", f"{person.nin}:{r}")
            for code, display, unit, low, high in rng.sample(LABS, rng.randint(2, 4)):
                value = round(rng.uniform(low * 0.8, high * 1.2), 1)
                out.append(
                    LabResult(
                        id=_pid("ob", f"{person.nin}:{r}:{code}"),
                        report_id=report,
                        code=code,
                        display=display,
                        value=value,
                        unit=unit,
                        low=low,
                        high=high,
                        taken_at=taken,
                        release_category=rng.choice((1, 1, 1, 2)),
                    )
                )
        return tuple(out)

    def _medications(
        self, rng: random.Random, person: Person, today: dt.date
    ) -> tuple[MedicationUse, ...]:
        out: list[MedicationUse] = []
        count = rng.randint(1, 4) if person.age_on(today) >= 18 else rng.randint(1, 2)
        for n, (atc, name, form, dosage) in enumerate(rng.sample(MEDICINES, count)):
            # the first is in both sources, so every person shows a merged entry
            where = "both" if n == 0 else rng.choice(("both", "ehr", "national"))
            out.append(
                MedicationUse(
                    atc=atc,
                    name=name,
                    form=form,
                    dosage=dosage,
                    started=today - dt.timedelta(days=rng.randint(10, 2000)),
                    ehr_id=_pid("ms", f"{person.nin}:med:{atc}") if where != "national" else None,
                    prescription_id=_pid("rx", f"{person.nin}:{atc}") if where != "ehr" else None,
                )
            )
        return tuple(out)

    def _vaccinations(
        self, rng: random.Random, person: Person, today: dt.date
    ) -> tuple[VaccinationRecord, ...]:
        out: list[VaccinationRecord] = []
        age_months = (
            (today.year - person.birth_date.year) * 12 + today.month - person.birth_date.month
        )
        for atc, name, months in VACCINES_CHILD:
            if months > age_months or age_months >= 20 * 12:  # adults: records predate SYSVAK
                continue
            date = person.birth_date + dt.timedelta(days=months * 30)
            # health stations record child vaccinations; most also reach the national registry
            national = rng.random() < 0.8 or age_months > 18 * 12
            out.append(
                VaccinationRecord(
                    _pid("im", f"{person.nin}:{atc}:{months}"),
                    atc,
                    name,
                    date,
                    national=national,
                    municipal=age_months < 20 * 12,
                )
            )
        if age_months >= 18 * 12:
            for atc, name in rng.sample(VACCINES_ADULT, rng.randint(1, 3)):
                date = today - dt.timedelta(days=rng.randint(20, 1500))
                out.append(
                    VaccinationRecord(
                        _pid("im", f"{person.nin}:{atc}"),
                        atc,
                        name,
                        date,
                        national=True,
                        municipal=False,
                    )
                )
            # every adult has one municipal record too (a flu shot at the municipality)
            out.append(
                VaccinationRecord(
                    _pid("im", f"{person.nin}:flu-muni"),
                    "J07BB02",
                    "Influensa (Influvac Tetra)",
                    today - dt.timedelta(days=rng.randint(5, 300)),
                    national=rng.random() < 0.5,
                    municipal=True,
                )
            )
        return tuple(out)
