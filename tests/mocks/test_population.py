import datetime as dt

from authz.identity import parse_national_id
from mocks.population import Population
from mocks.records import RecordStore


def test_personas_have_the_promised_ages_and_family(population: Population) -> None:
    today = population.today
    ages = {key: population.persona(key).age_on(today) for key in population.persona_keys}
    assert ages["kari"] == 45
    assert ages["ola"] == 82
    assert (ages["emil"], ages["ida"], ages["jonas"]) == (8, 14, 17)
    kari = population.persona("kari")
    children = {population.by_nin(n).persona for n in kari.children}  # type: ignore[union-attr]
    assert children == {"emil", "ida", "jonas"}
    for key in ("emil", "ida", "jonas"):
        assert population.persona(key).address == kari.address
    poas = population.powers_for_holder(kari.nin)
    assert [p.grantor for p in poas] == [population.persona("ola").nin]
    assert poas[0].kind == "full"
    assert population.powers_for_holder(population.persona("per").nin) == []


def test_population_is_deterministic_and_unique() -> None:
    day = dt.date(2026, 1, 1)
    a = Population(size=300, today=day)
    b = Population(size=300, today=day)
    assert [p.nin for p in a] == [p.nin for p in b]
    assert len({p.nin for p in a}) == len(a) == 306
    assert len({p.fhir_id for p in a}) == len(a)
    for person in a:
        assert parse_national_id(person.nin).birth_date == person.birth_date
        assert person.nin not in person.fhir_id


def test_parents_are_indexed_both_ways(population: Population) -> None:
    for person in population:
        for child in person.children:
            assert person.nin in population.parents_of(child)


def test_every_persona_has_records_in_all_three_sources(
    population: Population, records: RecordStore
) -> None:
    for key in population.persona_keys:
        record = records.record(population.persona(key).nin)
        systems = {a.system for a in record.appointments}
        assert systems == {"ehr", "municipal"}, key
        assert any(m.prescription_id for m in record.medications), key
        assert any(m.ehr_id for m in record.medications), key
        assert any(v.national for v in record.vaccinations), key
        assert any(v.municipal for v in record.vaccinations), key
