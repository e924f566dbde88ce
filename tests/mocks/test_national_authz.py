"""The national mock's authorization facts: youth consent, parents without responsibility,
confidential addresses, guardian reservations, powers of attorney, and statistics."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.national import create_national_app
from mocks.population import Population
from mocks.records import RecordStore
from mocks.statistics import AGE_BANDS, age_band, coverage

URL = "/statistics/vaccination-coverage/_search"


@pytest.fixture
async def client(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_national_app(records))
    async with httpx.AsyncClient(transport=transport, base_url="http://national.test") as c:
        yield c


async def _post(client: httpx.AsyncClient, url: str, body: Any) -> dict[str, Any]:
    response = await client.post(url, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _person(client: httpx.AsyncClient, nin: str) -> dict[str, Any]:
    (person,) = (await _post(client, "/persons/_search", {"nins": [nin]}))["persons"]
    assert isinstance(person, dict)
    return person


async def test_youth_consent_is_recorded_for_ida_only(
    client: httpx.AsyncClient, population: Population
) -> None:
    ida = await _person(client, population.persona("ida").nin)
    granted = dt.date.fromisoformat(ida["youthConsent"]["grantedOn"])
    assert set(ida["youthConsent"]) == {"grantedOn"}
    thirteen = population.persona("ida").birth_date.replace(
        year=population.persona("ida").birth_date.year + 13
    )
    assert thirteen < granted < population.today
    for key in ("thea", "emil", "kari"):
        assert (await _person(client, population.persona(key).nin))["youthConsent"] is None


async def test_frode_has_no_responsibility_and_is_not_in_karis(
    client: httpx.AsyncClient, population: Population
) -> None:
    frode = population.persona("frode").nin
    assert (await _person(client, frode))["parentalResponsibility"] == []
    kari = await _person(client, population.persona("kari").nin)
    assert frode not in str(kari)
    for key in ("emil", "ida", "jonas"):
        parents = (await _person(client, population.persona(key).nin))["parents"]
        assert {"nin": frode, "parentalResponsibility": False} in parents
        assert [p for p in parents if p["parentalResponsibility"]] == [
            {"nin": population.persona("kari").nin, "parentalResponsibility": True}
        ]


@pytest.mark.parametrize("key", ["mona", "lea"])
async def test_strictly_confidential_address_and_municipality_are_withheld(
    client: httpx.AsyncClient, population: Population, key: str
) -> None:
    person = population.persona(key)
    shown = await _person(client, person.nin)
    assert (shown["address"], shown["municipality"]) == (None, None)
    assert shown["addressProtection"] == "strictlyConfidential"
    gp = (await _post(client, "/gp/_search", {"nins": [person.nin]}))["gps"]
    answer = str(shown) + str(gp)
    for part in (person.address.street, person.address.postal_code):
        assert part not in answer


async def test_mona_has_responsibility_for_lea(
    client: httpx.AsyncClient, population: Population
) -> None:
    mona, lea = population.persona("mona").nin, population.persona("lea").nin
    assert (await _person(client, mona))["parentalResponsibility"] == [{"childNin": lea}]
    assert (await _person(client, lea))["parents"] == [
        {"nin": mona, "parentalResponsibility": True}
    ]


async def test_prescriptions_say_whether_they_are_reserved_from_guardians(
    client: httpx.AsyncClient, population: Population
) -> None:
    ida = population.persona("ida").nin
    found = (await _post(client, "/prescriptions/_search", {"nin": ida}))["prescriptions"]
    assert {rx["atc"] for rx in found if rx["reservedFromGuardians"]} == {"G03AA07"}
    assert any(rx["reservedFromGuardians"] is False for rx in found)
    kari = population.persona("kari").nin
    found = (await _post(client, "/prescriptions/_search", {"nin": kari}))["prescriptions"]
    assert found
    assert all(rx["reservedFromGuardians"] is False for rx in found)


async def test_nils_powers_of_attorney_include_an_expired_one(
    client: httpx.AsyncClient, population: Population
) -> None:
    nils = population.persona("nils").nin
    found = (await _post(client, "/powers-of-attorney/_search", {"holderNin": nils}))[
        "powersOfAttorney"
    ]
    by_grantor = {population.by_nin(p["grantorNin"]).persona: p for p in found}  # type: ignore[union-attr]
    assert {k: p["kind"] for k, p in by_grantor.items()} == {
        "berit": "standard",
        "arne": "read-only",
        "solveig": "communicate-only",
        "gunnar": "full",
    }
    expired = dt.date.fromisoformat(by_grantor["gunnar"]["validTo"])
    assert expired == population.today - dt.timedelta(days=10)


async def test_vaccination_coverage_counts_every_resident_exactly(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    rows = (await _post(client, URL, {}))["rows"]
    assert rows
    assert all(
        set(r) == {"municipality", "ageBand", "vaccine", "vaccinated", "population"} for r in rows
    )
    assert {r["ageBand"] for r in rows} == {band for band, _, _ in AGE_BANDS}
    residents: Counter[tuple[str, str]] = Counter()
    vaccinated: Counter[tuple[str, str, str]] = Counter()
    for person in population:
        if person.deceased is not None or person.lives_abroad:
            continue
        cell = (person.address.municipality, age_band(person.age_on(population.today)))
        residents[cell] += 1
        for atc in {v.atc for v in records.record(person.nin).vaccinations if v.national}:
            vaccinated[(*cell, atc)] += 1
    for row in rows:
        cell = (row["municipality"], row["ageBand"])
        assert row["population"] == residents[cell]
        assert row["vaccinated"] == vaccinated[(*cell, row["vaccine"])]
        assert 0 <= row["vaccinated"] <= row["population"]
    assert sum(r["vaccinated"] for r in rows) == sum(vaccinated.values()) > 0


async def test_vaccination_coverage_filters_and_is_computed_once(
    client: httpx.AsyncClient, records: RecordStore
) -> None:
    everything = (await _post(client, URL, {}))["rows"]
    trondheim = (await _post(client, URL, {"municipality": "5001"}))["rows"]
    assert trondheim == [r for r in everything if r["municipality"] == "5001"] != []
    mmr = (await _post(client, URL, {"municipality": "5001", "vaccine": "J07BD52"}))["rows"]
    assert mmr == [r for r in trondheim if r["vaccine"] == "J07BD52"] != []
    assert (await _post(client, URL, {"municipality": "9999"}))["rows"] == []
    assert coverage(records) is coverage(records)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"municipality": "Trondheim"}, id="municipality-name"),
        pytest.param({"municipality": 5001}, id="municipality-number"),
        pytest.param({"vaccine": "N02BE01"}, id="not-a-vaccine"),
        pytest.param({"region": "5001"}, id="unknown-field"),
    ],
)
async def test_vaccination_coverage_refuses_bad_filters(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post(URL, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
