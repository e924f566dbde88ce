import datetime as dt

import pytest

from authz.identity import parse_national_id
from mocks.personas import PERSONAS
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
    assert len({p.nin for p in a}) == len(a) == 300 + len(PERSONAS)
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


def test_frode_is_a_registered_parent_without_responsibility(population: Population) -> None:
    frode, kari = population.persona("frode"), population.persona("kari")
    assert frode.age_on(population.today) == 46
    kids = {population.persona(k).nin for k in ("emil", "ida", "jonas")}
    assert set(frode.non_custodial_children) == kids
    assert frode.children == ()
    assert (frode.address.city, frode.address.municipality) == ("Levanger", "5037")
    assert frode.address != kari.address
    for kid in kids:
        assert population.parents_of(kid) == [kari.nin]
        assert population.non_custodial_parents_of(kid) == [frode.nin]
    assert population.non_custodial_parents_of(kari.nin) == []


def test_mona_and_lea_share_a_strictly_confidential_address(population: Population) -> None:
    mona, lea = population.persona("mona"), population.persona("lea")
    assert (mona.age_on(population.today), lea.age_on(population.today)) == (38, 10)
    assert mona.children == (lea.nin,)
    assert mona.confidential_address == lea.confidential_address == "6"
    assert mona.address == lea.address


def test_nils_holds_four_powers_and_is_thea_s_parent(population: Population) -> None:
    nils, thea = population.persona("nils"), population.persona("thea")
    today = population.today
    kinds = {
        population.by_nin(p.grantor).persona: (p.kind, p.valid_to)  # type: ignore[union-attr]
        for p in population.powers_for_holder(nils.nin)
    }
    assert {k: kind for k, (kind, _) in kinds.items()} == {
        "berit": "standard",
        "arne": "read-only",
        "solveig": "communicate-only",
        "gunnar": "full",
    }
    assert kinds["gunnar"][1] == today - dt.timedelta(days=10)
    for key in ("berit", "arne", "solveig"):
        valid_to = kinds[key][1]
        assert valid_to is not None
        assert valid_to > today
    ages = {k: population.persona(str(k)).age_on(today) for k in kinds}
    assert ages == {"berit": 75, "arne": 68, "solveig": 90, "gunnar": 80}
    assert nils.children == (thea.nin,)
    assert (thea.age_on(today), thea.address, thea.youth_consent) == (13, nils.address, False)


def test_only_ida_has_a_youth_consent(population: Population) -> None:
    assert [k for k in population.persona_keys if population.persona(k).youth_consent] == ["ida"]


@pytest.mark.parametrize("key", ["anna", "per"])
def test_people_without_relations(population: Population, key: str) -> None:
    person = population.persona(key)
    assert (person.children, person.non_custodial_children) == ((), ())
    assert population.powers_for_holder(person.nin) == []
    assert population.powers_from_grantor(person.nin) == []
    assert population.parents_of(person.nin) == []
    assert population.persona("anna").age_on(population.today) == 35
