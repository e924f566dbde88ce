"""Health records of the synthetic population, one truth that every mock projects.

Each person's records are derived from the population seed and their identity, so the
EHR, the national portal and their municipality agree about the same medicine or the
same vaccination without any of them storing the whole population.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

from mocks.population import MUNICIPALITIES, OSLO, Person, Population


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A clinician in the EHR's directory."""

    id: str
    given: str
    family: str
    female: bool
    role: str


@dataclass(frozen=True, slots=True)
class Location:
    """A place where appointments happen."""

    id: str
    name: str
    street: str
    city: str
    kind: str  # hospital | gp | municipal


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked, past or cancelled appointment; `system` is `ehr` or `municipal`."""

    id: str
    system: str
    start: dt.datetime
    minutes: int
    status: str  # booked | fulfilled | cancelled | noshow
    service: str
    practitioner_id: str
    location_id: str
    video: bool


@dataclass(frozen=True, slots=True)
class Message:
    """One message in a thread between the person and a care provider."""

    id: str
    thread_id: str
    system: str
    sent_at: dt.datetime
    from_patient: bool
    practitioner_id: str
    subject: str
    text: str
    read: bool


@dataclass(frozen=True, slots=True)
class LabResult:
    """One laboratory observation, part of a report."""

    id: str
    report_id: str
    code: str  # LOINC
    display: str
    value: float
    unit: str
    low: float
    high: float
    taken_at: dt.datetime
    release_category: int


@dataclass(frozen=True, slots=True)
class MedicationUse:
    """A medicine the person uses, as the EHR and/or the e-prescription registry know it."""

    atc: str
    name: str
    form: str
    dosage: str
    started: dt.date
    ehr_id: str | None  # MedicationStatement id when the EHR lists it
    prescription_id: str | None  # e-prescription id when one exists


@dataclass(frozen=True, slots=True)
class VaccinationRecord:
    """One vaccination, recorded nationally, at a health station, or both."""

    id: str
    atc: str
    name: str
    date: dt.date
    national: bool
    municipal: bool


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """Everything the mocks know about one person's health."""

    appointments: tuple[Appointment, ...]
    messages: tuple[Message, ...]
    labs: tuple[LabResult, ...]
    medications: tuple[MedicationUse, ...]
    vaccinations: tuple[VaccinationRecord, ...]


SERVICES_HOSPITAL = (
    "Poliklinikk indremedisin",
    "Ortopedisk kontroll",
    "Hudpoliklinikk",
    "Øyepoliklinikk",
    "Barnepoliklinikk",
    "Røntgen",
)
SERVICES_MUNICIPAL = ("Helsestasjon", "Hjemmesykepleie", "Fysioterapi", "Legevakt oppfølging")
LABS = (  # LOINC code, display, unit, low, high
    ("718-7", "Hemoglobin", "g/dL", 11.7, 15.3),
    ("2345-7", "Glucose", "mmol/L", 4.0, 6.0),
    ("2160-0", "Creatinine", "umol/L", 45.0, 90.0),
    ("3016-3", "TSH", "mIU/L", 0.5, 4.1),
    ("1988-5", "C reactive protein", "mg/L", 0.0, 5.0),
    ("2093-3", "Cholesterol", "mmol/L", 3.3, 6.9),
)
MEDICINES = (  # ATC, name, form, dosage
    ("H03AA01", "Levaxin 50 mikrog", "tablett", "1 tablett om morgenen"),
    ("C10AA01", "Simvastatin 20 mg", "tablett", "1 tablett om kvelden"),
    ("N02BE01", "Paracet 500 mg", "tablett", "1-2 tabletter ved behov, maks 8 per døgn"),
    ("R03AC02", "Ventoline 0,1 mg/dose", "inhalasjonsaerosol", "1-2 doser ved behov"),
    ("A02BC01", "Omeprazol 20 mg", "enterokapsel", "1 kapsel daglig"),
    ("C09AA05", "Ramipril 5 mg", "tablett", "1 tablett daglig"),
    ("B01AC06", "Albyl-E 75 mg", "enterotablett", "1 tablett daglig"),
)
VACCINES_CHILD = (  # ATC, name, age in months
    ("J07CA06", "DTP-IPV-Hib-HepB (Infanrix hexa)", 3),
    ("J07AL02", "Pneumokokk (Prevenar 13)", 5),
    ("J07BD52", "MMR (Priorix)", 15),
    ("J07CA02", "DTP-IPV (Tetravac)", 84),
    ("J07BM02", "HPV (Cervarix)", 144),
)
VACCINES_ADULT = (
    ("J07BB02", "Influensa (Influvac Tetra)"),
    ("J07BN01", "Covid-19 (Comirnaty)"),
    ("J07AL02", "Pneumokokk (Prevenar 13)"),
)
MESSAGE_SUBJECTS = (
    "Spørsmål om time",
    "Prøvesvar",
    "Endring av medisin",
    "Innkalling",
    "Resept fornyet",
    "Oppfølging etter besøk",
)


def _pid(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:16]


class Catalogue:
    """Shared directories: practitioners and locations every record points into."""

    def __init__(self, seed: int, practitioners: int = 200, locations: int = 40) -> None:
        rng = random.Random(seed * 7 + 1)
        roles = ("Lege", "Sykepleier", "Fysioterapeut", "Helsesykepleier", "Jordmor")
        self.practitioners = [
            Practitioner(
                id=f"pr{n:05d}",
                given=rng.choice(("Anne", "Bjørn", "Cecilie", "Dag", "Eva", "Frode", "Guro")),
                family=rng.choice(("Aas", "Bakke", "Eide", "Foss", "Holm", "Lie", "Moe")),
                female=rng.random() < 0.5,
                role=roles[n % len(roles)],
            )
            for n in range(practitioners)
        ]
        kinds = ("hospital", "gp", "municipal")
        self.locations = [
            Location(
                id=f"loc{n:04d}",
                name=(
                    f"St. Olavs hospital, {SERVICES_HOSPITAL[n % len(SERVICES_HOSPITAL)]}"
                    if kinds[n % 3] == "hospital"
                    else f"{MUNICIPALITIES[(n // 3) % len(MUNICIPALITIES)].name} "
                    + ("legekontor" if kinds[n % 3] == "gp" else "helsestasjon")
                ),
                street=f"Prinsens gate {n + 1}",
                city="Trondheim"
                if kinds[n % 3] == "hospital"
                else MUNICIPALITIES[(n // 3) % len(MUNICIPALITIES)].name,
                kind=kinds[n % 3],
            )
            for n in range(locations)
        ]
        self.practitioner_by_id = {p.id: p for p in self.practitioners}
        self.location_by_id = {loc.id: loc for loc in self.locations}

    def locations_of_kind(self, kind: str) -> list[Location]:
        """Locations of one kind (`hospital`, `gp`, `municipal`)."""
        return [loc for loc in self.locations if loc.kind == kind]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


class RecordStore:
    """Derives (and memoises, boundedly) each person's health record."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.catalogue = Catalogue(population.seed)
        self._hospital = self.catalogue.locations_of_kind("hospital")
        self._municipal_by_city: dict[str, list[Location]] = {}
        for loc in self.catalogue.locations_of_kind("municipal"):
            self._municipal_by_city.setdefault(loc.city, []).append(loc)
        self.record = lru_cache(maxsize=8192)(self._derive)

    def _derive(self, nin: str) -> HealthRecord:
        person = self.population.by_nin(nin)
        if person is None:
            raise KeyError("unknown person")
        rng = random.Random(f"{self.population.seed}:{nin}")
        today = self.population.today
        return HealthRecord(
            appointments=self._appointments(rng, person, today),
            messages=self._messages(rng, person, today),
            labs=self._labs(rng, person, today),
            medications=self._medications(rng, person, today),
            vaccinations=self._vaccinations(rng, person, today),
        )

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
