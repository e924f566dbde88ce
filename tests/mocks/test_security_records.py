"""The personas' fixed, security-relevant records, and low-rate labels on generated people."""

from __future__ import annotations

import datetime as dt

from mocks.persona_records import EMIL_RELEASE_CASES
from mocks.population import Population
from mocks.record_types import PLAIN, HealthRecord, Labels, oslo_at
from mocks.records import RecordStore


def _record(population: Population, records: RecordStore, key: str) -> HealthRecord:
    return records.record(population.persona(key).nin)


def test_kari_has_an_hiv_result_and_a_restricted_hospital_appointment(
    population: Population, records: RecordStore
) -> None:
    record = _record(population, records, "kari")
    assert [lab.code for lab in record.labs if lab.security] == ["20447-9"]
    assert [lab.security for lab in record.labs if lab.security] == [Labels(sensitivity=("HIV",))]
    restricted = [a for a in record.appointments if a.security]
    assert [(a.system, a.security) for a in restricted] == [("ehr", Labels("R"))]


def test_ola_has_restricted_withheld_and_ordinary_items(
    population: Population, records: RecordStore
) -> None:
    record = _record(population, records, "ola")
    labelled = [(a.system, a.security) for a in record.appointments if a.security]
    assert labelled == [("ehr", Labels("R"))]
    withheld = [lab for lab in record.labs if lab.security.not_shown_electronically]
    assert [lab.code for lab in withheld] == ["14682-9"]
    now = oslo_at(population.today, 7)
    assert any(
        a.system == "ehr" and a.status == "booked" and a.start > now and not a.security
        for a in record.appointments
    )
    assert any(lab.release_category == 1 and not lab.security for lab in record.labs)


def test_emil_has_one_lab_per_release_rule(population: Population, records: RecordStore) -> None:
    record = _record(population, records, "emil")
    now = oslo_at(population.today, 7)
    by_code = {lab.code: lab for lab in record.labs}
    cases = {case.code: case for case in EMIL_RELEASE_CASES}
    assert len(cases) == 7
    assert set(cases) <= set(by_code)

    def days_ago(at: dt.datetime | None) -> int | None:
        return None if at is None else (now - at).days

    facts = {
        code: (
            by_code[code].release_category,
            days_ago(by_code[code].taken_at),
            days_ago(by_code[code].reviewed_at),
            days_ago(by_code[code].released_at),
        )
        for code in cases
    }
    assert facts == {
        "6690-2": (1, 9, None, None),
        "777-3": (2, 2, None, None),
        "2951-2": (2, 19, None, None),
        "2823-3": (2, 2, 0, None),
        "1742-6": (3, 29, None, None),
        "1920-8": (3, 29, None, 1),
        "2132-9": (4, 14, None, None),
    }
    # distinguishable: every case has its own display and its own report
    assert len({by_code[c].display for c in cases}) == 7
    assert len({by_code[c].report_id for c in cases}) == 7


def test_ida_keeps_some_items_from_her_guardians(
    population: Population, records: RecordStore
) -> None:
    record = _record(population, records, "ida")
    kept = Labels(kept_from_guardians=True)
    assert [(a.system, a.service) for a in record.appointments if a.security == kept] == [
        ("municipal", "Helsestasjon for ungdom")
    ]
    assert [(m.system, m.subject) for m in record.messages if m.security == kept] == [
        ("ehr", "Samtale om helse")
    ]
    assert [m.counterpart for m in record.messages if m.security == kept] == ["gp"]
    prescribed = [m for m in record.medications if m.prescription_id]
    assert [m.atc for m in prescribed if m.reserved_from_guardians] == ["G03AA07"]
    assert any(not m.reserved_from_guardians for m in prescribed)
    ended = {m.atc: (population.today - m.ended).days for m in prescribed if m.ended}
    assert ended == {"R06AX27": 120, "D10AF01": 600}
    assert any(a.system == "ehr" and not a.security for a in record.appointments)


def test_personas_without_cases_have_no_labels(
    population: Population, records: RecordStore
) -> None:
    for key in ("lea", "mona", "thea", "nils", "frode", "anna", "jonas", "per"):
        record = _record(population, records, key)
        labels = {a.security for a in record.appointments}
        labels |= {m.security for m in record.messages} | {lab.security for lab in record.labs}
        assert labels == {PLAIN}, key
        assert not any(m.reserved_from_guardians for m in record.medications), key


def test_generated_people_get_a_few_labels_and_reviews_never_in_the_future() -> None:
    population = Population(size=2000, today=dt.date(2026, 11, 23))
    records = RecordStore(population)
    now = oslo_at(population.today, 7)
    labs = [
        lab
        for person in population
        if person.persona is None
        for lab in records.record(person.nin).labs
    ]
    labelled = [lab for lab in labs if lab.security]
    assert 0 < len(labelled) < len(labs) * 0.1
    reviewed = [lab for lab in labs if lab.reviewed_at is not None]
    assert reviewed
    assert all(lab.release_category == 2 for lab in reviewed)
    assert all(lab.taken_at < lab.reviewed_at < now for lab in reviewed)  # type: ignore[operator]
