"""The national-portal mock: registry facts, powers of attorney, prescriptions, vaccinations,
GPs and critical information, checked against the shared population and records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz.identity import synthetic_national_id
from mocks.national import create_national_app, person_json
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.test_rest import json_bodies

ENDPOINTS = {
    "/persons/_search": ("nins",),
    "/powers-of-attorney/_search": ("holderNin", "grantorNin", "pageSize", "pageToken"),
    "/prescriptions/_search": ("nin", "pageSize", "pageToken"),
    "/vaccinations/_search": ("nin", "pageSize", "pageToken"),
    "/gp/_search": ("nins",),
    "/critical-information/_search": ("nin", "pageSize", "pageToken"),
    "/statistics/vaccination-coverage/_search": ("municipality", "vaccine"),
    "/$batch": ("requests",),
}


def _stranger(population: Population) -> str:
    """A well-formed identity number that belongs to nobody in the population."""
    nin = synthetic_national_id(dt.date(1950, 1, 1), 3, female=True)
    assert population.by_nin(nin) is None
    return nin


@pytest.fixture
async def client(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_national_app(records))
    async with httpx.AsyncClient(transport=transport, base_url="http://national.test") as c:
        yield c


async def _post(client: httpx.AsyncClient, url: str, body: Any) -> dict[str, Any]:
    response = await client.post(url, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


async def test_kari_has_three_children_an_address_and_trondheim(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari")
    (person,) = (await _post(client, "/persons/_search", {"nins": [kari.nin]}))["persons"]
    children = {population.persona(k).nin for k in ("emil", "ida", "jonas")}
    assert {c["childNin"] for c in person["parentalResponsibility"]} == children
    assert person["address"] == {
        "street": "Kirkegata 12",
        "postalCode": "7013",
        "city": "Trondheim",
    }
    assert person["municipality"] == "5001"
    assert person["birthDate"] == kari.birth_date.isoformat()
    assert (person["givenName"], person["familyName"], person["sex"]) == (
        "Kari",
        "Nordmann",
        "female",
    )
    assert person["addressProtection"] is None
    assert (person["livesAbroad"], person["deceasedDate"], person["parents"]) == (False, None, [])


async def test_emil_lists_kari_with_and_frode_without_responsibility(
    client: httpx.AsyncClient, population: Population
) -> None:
    emil = population.persona("emil")
    (person,) = (await _post(client, "/persons/_search", {"nins": [emil.nin]}))["persons"]
    kari, frode = population.persona("kari").nin, population.persona("frode").nin
    assert person["parents"] == [
        {"nin": kari, "parentalResponsibility": True},
        {"nin": frode, "parentalResponsibility": False},
    ]
    assert person["parentalResponsibility"] == []


async def test_persons_come_in_request_order_without_unknowns(
    client: httpx.AsyncClient, population: Population
) -> None:
    ola, kari = population.persona("ola").nin, population.persona("kari").nin
    unknown = _stranger(population)
    body = {"nins": [ola, unknown, kari, ola]}
    assert [p["nin"] for p in (await _post(client, "/persons/_search", body))["persons"]] == [
        ola,
        kari,
    ]


@pytest.mark.parametrize(
    ("code", "protection", "address", "municipality"),
    [
        pytest.param("7", "confidential", None, "5001", id="code-7-keeps-municipality"),
        pytest.param("6", "strictlyConfidential", None, None, id="code-6-hides-municipality"),
    ],
)
def test_confidential_addresses_are_withheld(
    population: Population, code: str, protection: str, address: None, municipality: str | None
) -> None:
    kari = dataclasses.replace(population.persona("kari"), confidential_address=code)
    shown = person_json(kari, [])
    assert (shown["addressProtection"], shown["address"], shown["municipality"]) == (
        protection,
        address,
        municipality,
    )
    assert "Kirkegata" not in json.dumps(shown)


def test_emigrants_and_the_deceased(population: Population) -> None:
    day = dt.date(2020, 5, 17)
    per = dataclasses.replace(population.persona("per"), lives_abroad=True, deceased=day)
    shown = person_json(per, [])
    assert (shown["livesAbroad"], shown["address"], shown["municipality"]) == (True, None, None)
    assert shown["deceasedDate"] == "2020-05-17"


@pytest.mark.parametrize("side", ["holderNin", "grantorNin"])
async def test_olas_power_of_attorney_to_kari_from_both_sides(
    client: httpx.AsyncClient, population: Population, side: str
) -> None:
    ola, kari = population.persona("ola").nin, population.persona("kari").nin
    asked = kari if side == "holderNin" else ola
    found = await _post(client, "/powers-of-attorney/_search", {side: asked})
    (poa,) = found["powersOfAttorney"]
    assert (poa["grantorNin"], poa["holderNin"], poa["kind"]) == (ola, kari, "full")
    assert poa["serviceAreas"] == [1, 3]
    assert dt.date.fromisoformat(poa["validFrom"]) < population.today
    assert found["nextPageToken"] is None


async def test_prescriptions_match_the_records(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key in population.persona_keys:
        nin = population.persona(key).nin
        found = (await _post(client, "/prescriptions/_search", {"nin": nin}))["prescriptions"]
        expected = {m.prescription_id: m for m in records.record(nin).medications}
        expected.pop(None, None)
        assert [p["id"] for p in found] == list(expected), key
        for rx in found:
            med = expected[rx["id"]]
            assert (rx["atc"], rx["name"], rx["form"], rx["dosage"]) == (
                med.atc,
                med.name,
                med.form,
                med.dosage,
            )
            issued, valid_to = dt.date.fromisoformat(rx["issuedOn"]), rx["validTo"]
            if med.ended is None:
                assert rx["status"] == "active"
                assert med.started <= issued <= population.today < dt.date.fromisoformat(valid_to)
            else:  # an expired prescription ended on its last valid day
                assert rx["status"] == "expired"
                assert dt.date.fromisoformat(valid_to) == med.ended < population.today
            assert rx["prescriber"]["hprNumber"].isdigit()


async def test_vaccinations_are_the_national_records(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key in population.persona_keys:
        nin = population.persona(key).nin
        found = (await _post(client, "/vaccinations/_search", {"nin": nin}))["vaccinations"]
        expected = [v for v in records.record(nin).vaccinations if v.national]
        assert [(v["id"], v["atc"], v["date"]) for v in found] == [
            (v.id, v.atc, v.date.isoformat()) for v in expected
        ], key
        assert {v["registry"] for v in found} == {"SYSVAK"}


async def test_unknown_person_has_empty_lists(
    client: httpx.AsyncClient, population: Population
) -> None:
    body = {"nin": _stranger(population)}
    for url, key in [
        ("/prescriptions/_search", "prescriptions"),
        ("/vaccinations/_search", "vaccinations"),
        ("/critical-information/_search", "criticalInformation"),
    ]:
        assert await _post(client, url, body) == {key: [], "nextPageToken": None}


async def test_gp_is_deterministic_and_shared_by_a_household(
    client: httpx.AsyncClient, population: Population
) -> None:
    nins = [population.persona(k).nin for k in ("kari", "emil", "ola")]
    gps = (await _post(client, "/gp/_search", {"nins": nins}))["gps"]
    assert [g["nin"] for g in gps] == nins
    assert gps[0]["gp"] == gps[1]["gp"]
    assert gps[0]["office"] == gps[1]["office"]
    assert gps == (await _post(client, "/gp/_search", {"nins": nins}))["gps"]
    assert set(gps[0]["office"]) == {"name", "street", "city", "phone"}
    assert gps[0]["gp"]["hprNumber"].isdigit()


async def test_critical_information_is_deterministic_and_rare(
    client: httpx.AsyncClient, population: Population
) -> None:
    people = list(population)[:120]
    counts = []
    for person in people:
        body = {"nin": person.nin}
        first = await _post(client, "/critical-information/_search", body)
        assert first == await _post(client, "/critical-information/_search", body)
        for item in first["criticalInformation"]:
            assert item["type"] in {"allergy", "implant", "condition"}
            assert person.birth_date <= dt.date.fromisoformat(item["registeredOn"])
        counts.append(len(first["criticalInformation"]))
    assert 0 < counts.count(0) < len(people)
    assert counts.count(0) > len(people) / 2


@pytest.mark.parametrize(
    ("url", "key"),
    [
        pytest.param("/prescriptions/_search", "prescriptions", id="prescriptions"),
        pytest.param("/vaccinations/_search", "vaccinations", id="vaccinations"),
        pytest.param("/critical-information/_search", "criticalInformation", id="critical"),
    ],
)
async def test_paging_returns_every_item_exactly_once(
    client: httpx.AsyncClient, population: Population, url: str, key: str
) -> None:
    for person in list(population)[:40]:
        whole = (await _post(client, url, {"nin": person.nin, "pageSize": 100}))[key]
        seen: list[Any] = []
        body: dict[str, Any] = {"nin": person.nin, "pageSize": 1}
        while True:
            page = await _post(client, url, body)
            assert len(page[key]) <= 1
            seen += page[key]
            if page["nextPageToken"] is None:
                break
            body["pageToken"] = page["nextPageToken"]
        assert seen == whole


async def test_powers_of_attorney_page_every_item_once() -> None:
    population = Population(size=20, today=dt.date(2026, 11, 23))
    kari, ola = population.persona("kari"), population.persona("ola")
    template = population.powers_for_holder(kari.nin)[0]
    extra = [dataclasses.replace(template, id=f"poa-x{n}", kind="read-only") for n in range(4)]
    population.powers_of_attorney.extend(extra)
    transport = httpx.ASGITransport(app=create_national_app(RecordStore(population)))
    async with httpx.AsyncClient(transport=transport, base_url="http://national.test") as client:
        for side, nin in (("holderNin", kari.nin), ("grantorNin", ola.nin)):
            body: dict[str, Any] = {side: nin, "pageSize": 2}
            ids: list[str] = []
            for _ in range(5):
                page = await _post(client, "/powers-of-attorney/_search", body)
                ids += [p["id"] for p in page["powersOfAttorney"]]
                if page["nextPageToken"] is None:
                    break
                body["pageToken"] = page["nextPageToken"]
            assert ids == ["poa-000000", "poa-x0", "poa-x1", "poa-x2", "poa-x3"], side


def _validation_cases(population: Population) -> list[tuple[str, Any, str]]:
    kari = population.persona("kari").nin
    typo = kari[:-1] + str((int(kari[-1]) + 1) % 10)
    return [
        ("/persons/_search", {"nins": []}, "nins must be a list of 1 to 100"),
        ("/persons/_search", {"nins": [kari] * 101}, "nins must be a list of 1 to 100"),
        ("/persons/_search", {"nins": kari}, "nins must be a list"),
        ("/persons/_search", {"nins": [kari, typo]}, "nins[1] is not a valid"),
        ("/persons/_search", {"nins": [kari, int(kari)]}, "nins[1] must be a string"),
        ("/persons/_search", {"nin": kari}, "accepts only: nins"),
        ("/gp/_search", {"nins": [kari[:10]]}, "nins[0] is not a valid"),
        ("/prescriptions/_search", {"nin": typo}, "nin is not a valid"),
        ("/prescriptions/_search", {}, "nin is required"),
        ("/vaccinations/_search", {"nin": [kari]}, "nin must be a string"),
        ("/vaccinations/_search", {"nin": kari, "pageSize": 0}, "pageSize"),
        ("/critical-information/_search", {"nin": kari, "pageToken": kari}, "pageToken"),
        ("/powers-of-attorney/_search", {}, "exactly one of holderNin and grantorNin"),
        ("/powers-of-attorney/_search", {"holderNin": kari, "grantorNin": kari}, "exactly one"),
        ("/powers-of-attorney/_search", {"grantorNin": typo}, "grantorNin is not a valid"),
        ("/powers-of-attorney/_search", {"holderNin": None}, "holderNin must be a string"),
    ]


async def test_validation_errors_name_the_field_and_never_an_identity_number(
    client: httpx.AsyncClient, population: Population
) -> None:
    every_nin = [p.nin for p in population]
    for url, body, phrase in _validation_cases(population):
        response = await client.post(url, json=body)
        assert response.status_code == 400, (url, phrase)
        assert response.headers["content-type"] == "application/problem+json"
        assert phrase in response.json()["detail"], (url, phrase)
        assert not [n for n in every_nin if n in response.text], (url, phrase)
        sent = [v for v in body.values() if isinstance(v, str)]
        assert not [v for v in sent if v in response.text], (url, phrase)


async def test_batch_mixes_endpoints_successes_and_failures(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").nin
    requests = [
        {"id": "p", "method": "POST", "url": "/persons/_search", "body": {"nins": [kari]}},
        {"id": "rx", "method": "POST", "url": "/prescriptions/_search", "body": {"nin": kari}},
        {"id": "bad", "method": "POST", "url": "/vaccinations/_search", "body": {"nin": "12"}},
        {"id": "get", "method": "GET", "url": "/gp/_search"},
    ]
    entries = (await _post(client, "/$batch", {"requests": requests}))["responses"]
    assert [(e["id"], e["status"]) for e in entries] == [
        ("p", 200),
        ("rx", 200),
        ("bad", 400),
        ("get", 405),
    ]
    assert entries[0]["body"]["persons"][0]["municipality"] == "5001"
    direct = await _post(client, "/prescriptions/_search", {"nin": kari})
    assert entries[1]["body"] == direct
    assert entries[2]["body"]["detail"].startswith("nin is not a valid")


@pytest.mark.parametrize("url", list(ENDPOINTS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_arbitrary_bodies_never_cause_a_server_error(
    records: RecordStore, population: Population, url: str, data: st.DataObject
) -> None:
    nins = [population.persona(k).nin for k in population.persona_keys] + [_stranger(population)]
    body = data.draw(json_bodies(ENDPOINTS[url], nins), label="body")
    transport = httpx.ASGITransport(app=create_national_app(records))
    async with httpx.AsyncClient(transport=transport, base_url="http://national.test") as c:
        response = await c.post(url, content=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert not [n for n in nins if n in response.text]
