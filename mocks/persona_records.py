"""Fixed, security-relevant records of the personas, added to their generated records.

Every case is an extra item (own id, own report or thread), so tests can find it by its
LOINC code, service or subject, and nothing generated is relabelled:

    kari   lab 20447-9 "HIV 1 RNA" labelled HIV; EHR appointment "Poliklinikk psykisk
           helse" confidentiality R
    ola    EHR appointment "Hukommelsesklinikken" confidentiality R; lab 14682-9
           "Creatinine (withheld)" not shown electronically
    emil   one lab per release rule (codes in EMIL_RELEASE_CASES)
    ida    municipal appointment "Helsestasjon for ungdom" and EHR message "Samtale om
           helse" with her GP kept from guardians; e-prescription G03AA07 reserved from
           guardians; e-prescriptions that expired 4 months (R06AX27) and 20 months
           (D10AF01) ago
    mona   a municipal home visit ("Hjemmesykepleie") at her confidential address
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mocks.population import Person
from mocks.record_types import (
    HOME_VISIT,
    PLAIN,
    Appointment,
    HealthRecord,
    Labels,
    LabResult,
    MedicationUse,
    Message,
    oslo_at,
    record_id,
)

if TYPE_CHECKING:
    from mocks.records import Catalogue

KEPT = Labels(kept_from_guardians=True)


@dataclass(frozen=True, slots=True)
class ReleaseCase:
    """One of emil's lab results, covering one release rule."""

    code: str
    display: str
    unit: str
    low: float
    high: float
    category: int
    taken_days_ago: int
    reviewed_days_ago: int | None = None
    released_days_ago: int | None = None


# Distinct LOINC codes (none of them among the generated labs), one per rule.
EMIL_RELEASE_CASES: tuple[ReleaseCase, ...] = (
    ReleaseCase("6690-2", "Leukocytes (category 1)", "10*9/L", 4.0, 11.0, 1, 10),
    ReleaseCase("777-3", "Platelets (category 2, 3 days, unreviewed)", "10*9/L", 150, 450, 2, 3),
    ReleaseCase("2951-2", "Sodium (category 2, 20 days, unreviewed)", "mmol/L", 137, 145, 2, 20),
    ReleaseCase("2823-3", "Potassium (category 2, reviewed)", "mmol/L", 3.5, 5.0, 2, 3, 1),
    ReleaseCase("1742-6", "ALAT (category 3, not released)", "U/L", 10, 45, 3, 30),
    ReleaseCase("1920-8", "ASAT (category 3, released)", "U/L", 15, 40, 3, 30, None, 2),
    ReleaseCase("2132-9", "Vitamin B12 (category 4)", "pmol/L", 150, 650, 4, 15),
)


class _Cases:
    """Builders for one persona's extra items."""

    def __init__(self, person: Person, today: dt.date, catalogue: Catalogue) -> None:
        self.person = person
        self.today = today
        self.now = oslo_at(today, 7)
        self.catalogue = catalogue

    def _staff(self, role: str) -> str:
        return next(p.id for p in self.catalogue.practitioners if p.role == role)

    def appointment(
        self, key: str, system: str, days: int, service: str, labels: Labels
    ) -> Appointment:
        kind = "hospital" if system == "ehr" else "municipal"
        places = self.catalogue.locations_of_kind(kind)
        local = [loc for loc in places if loc.city == self.person.address.city] or places
        return Appointment(
            id=record_id("ap", f"{self.person.nin}:case:{key}"),
            system=system,
            start=oslo_at(self.today + dt.timedelta(days=days), 10, 30),
            minutes=30,
            status="booked" if days >= 0 else "fulfilled",
            service=service,
            practitioner_id=self._staff("Lege" if system == "ehr" else "Sykepleier"),
            location_id=local[0].id,
            video=False,
            security=labels,
        )

    def lab(self, key: str, case: ReleaseCase, value: float, labels: Labels = PLAIN) -> LabResult:
        def ago(days: int | None) -> dt.datetime | None:
            return None if days is None else self.now - dt.timedelta(days=days, hours=-2)

        return LabResult(
            id=record_id("ob", f"{self.person.nin}:case:{key}"),
            report_id=record_id("dr", f"{self.person.nin}:case:{key}"),
            code=case.code,
            display=case.display,
            value=value,
            unit=case.unit,
            low=case.low,
            high=case.high,
            taken_at=oslo_at(self.today - dt.timedelta(days=case.taken_days_ago), 8, 15),
            release_category=case.category,
            reviewed_at=ago(case.reviewed_days_ago),
            released_at=ago(case.released_days_ago),
            security=labels,
        )

    def message(self, key: str, subject: str, text: str, labels: Labels) -> Message:
        return Message(
            id=record_id("ms", f"{self.person.nin}:case:{key}"),
            thread_id=record_id("th", f"{self.person.nin}:case:{key}"),
            system="ehr",
            sent_at=self.now - dt.timedelta(days=4, hours=-3),
            from_patient=False,
            practitioner_id=self._staff("Lege"),
            subject=subject,
            text=text,
            read=True,
            security=labels,
        )


def _kari(c: _Cases, record: HealthRecord) -> HealthRecord:
    hiv = ReleaseCase("20447-9", "HIV 1 RNA", "{copies}/mL", 0.0, 0.0, 1, 40)
    return replace(
        record,
        labs=(*record.labs, c.lab("hiv", hiv, 0.0, Labels(sensitivity=("HIV",)))),
        appointments=(
            *record.appointments,
            c.appointment("restricted", "ehr", 12, "Poliklinikk psykisk helse", Labels("R")),
        ),
    )


def _ola(c: _Cases, record: HealthRecord) -> HealthRecord:
    withheld = ReleaseCase("14682-9", "Creatinine (withheld)", "umol/L", 60.0, 105.0, 1, 25)
    return replace(
        record,
        labs=(
            *record.labs,
            c.lab("withheld", withheld, 131.0, Labels(not_shown_electronically=True)),
        ),
        appointments=(
            *record.appointments,
            c.appointment("restricted", "ehr", 9, "Hukommelsesklinikken", Labels("R")),
        ),
    )


def _emil(c: _Cases, record: HealthRecord) -> HealthRecord:
    labs = [
        c.lab(f"release-{n}", case, round((case.low + case.high) / 2, 1))
        for n, case in enumerate(EMIL_RELEASE_CASES)
    ]
    return replace(record, labs=(*record.labs, *labs))


def _ida(c: _Cases, record: HealthRecord) -> HealthRecord:
    pill = MedicationUse(
        atc="G03AA07",
        name="Microgynon 28",
        form="tablett",
        dosage="1 tablett daglig",
        started=c.today - dt.timedelta(days=60),
        ehr_id=record_id("ms", f"{c.person.nin}:case:reserved"),
        prescription_id=record_id("rx", f"{c.person.nin}:case:reserved"),
        reserved_from_guardians=True,
    )
    expired = [
        MedicationUse(
            atc=atc,
            name=name,
            form=form,
            dosage=dosage,
            started=c.today - dt.timedelta(days=days + 365),
            ehr_id=None,
            prescription_id=record_id("rx", f"{c.person.nin}:case:{key}"),
            ended=c.today - dt.timedelta(days=days),
        )
        for key, atc, name, form, dosage, days in (
            ("expired-recent", "R06AX27", "Desloratadin 5 mg", "tablett", "1 tablett", 120),
            ("expired-old", "D10AF01", "Zindaclin 1 %", "gel", "Påføres om kvelden", 600),
        )
    ]
    kept_visit = c.appointment("kept", "municipal", 6, "Helsestasjon for ungdom", KEPT)
    kept_message = replace(
        c.message(
            "kept", "Samtale om helse", "Takk for samtalen. Ta kontakt om du lurer på noe.", KEPT
        ),
        counterpart="gp",
    )
    return replace(
        record,
        appointments=(*record.appointments, kept_visit),
        messages=(*record.messages, kept_message),
        medications=(*record.medications, pill, *expired),
    )


def _mona(c: _Cases, record: HealthRecord) -> HealthRecord:
    visit = c.appointment("home-visit", "municipal", 3, HOME_VISIT, PLAIN)
    return replace(record, appointments=(*record.appointments, visit))


_CASES: dict[str, Callable[[_Cases, HealthRecord], HealthRecord]] = {
    "kari": _kari,
    "ola": _ola,
    "emil": _emil,
    "ida": _ida,
    "mona": _mona,
}


def persona_cases(
    person: Person, record: HealthRecord, today: dt.date, catalogue: Catalogue
) -> HealthRecord:
    """`record` with the persona's fixed cases added; every persona has national and
    municipal vaccinations, as every persona has data in all three sources."""
    shots = record.vaccinations
    if shots and not any(v.national for v in shots):
        shots = (replace(shots[0], national=True), *shots[1:])
    record = replace(record, vaccinations=shots)
    add = _CASES.get(person.persona or "")
    return record if add is None else add(_Cases(person, today, catalogue), record)
