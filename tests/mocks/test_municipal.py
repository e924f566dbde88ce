"""The municipal care-services mock: residency, appointments, health-station vaccinations,
home-care decisions, paging and `$batch`, against the shared population and records."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.municipal import create_municipal_app
from mocks.population import Population
from mocks.record_types import HOME_VISIT
from mocks.records import RecordStore
from tests.mocks.test_rest import json_bodies

ENDPOINTS = {
    "/appointments/_search": ("nin", "from", "to", "pageSize", "pageToken"),
    "/vaccinations/_search": ("nin", "pageSize", "pageToken"),
    "/services/_search": ("nin", "pageSize", "pageToken"),
    "/$batch": ("requests",),
}
STATUSES = {"booked", "completed", "cancelled", "noShow"}


async def _client(records: RecordStore, code: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_municipal_app(records, code))
    return httpx.AsyncClient(transport=transport, base_url=f"http://m{code}.test")


@pytest.fixture
async def trondheim(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(records, "5001") as client:
        yield client


@pytest.fixture
async def levanger(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(records, "5037") as client:
        yield client


async def _post(client: httpx.AsyncClient, url: str, body: Any) -> dict[str, Any]:
    response = await client.post(url, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


async def test_info_names_the_municipality(
    trondheim: httpx.AsyncClient, levanger: httpx.AsyncClient
) -> None:
    assert (await trondheim.get("/info")).json() == {"code": "5001", "name": "Trondheim"}
    assert (await levanger.get("/info")).json() == {"code": "5037", "name": "Levanger"}
    assert (await levanger.post("/info")).status_code == 405


def test_an_unknown_municipality_code_is_refused(records: RecordStore) -> None:
    with pytest.raises(ValueError, match="no mock municipality with code '9999'"):
        create_municipal_app(records, "9999")


@pytest.mark.parametrize("url", [u for u in ENDPOINTS if u != "/$batch"])
async def test_residency_decides_who_is_served(
    trondheim: httpx.AsyncClient, levanger: httpx.AsyncClient, population: Population, url: str
) -> None:
    kari, ola = population.persona("kari").nin, population.persona("ola").nin
    assert (await trondheim.post(url, json={"nin": kari})).status_code == 200
    assert (await levanger.post(url, json={"nin": ola})).status_code == 200
    for client, nin in ((levanger, kari), (trondheim, ola)):
        response = await client.post(url, json={"nin": nin})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/unknown-resident")
        assert problem["status"] == 404
        assert nin not in response.text
        assert "no resident with this national identity number" in problem["detail"]


async def test_appointments_are_the_municipal_records(
    trondheim: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key in ("kari", "emil", "ida", "jonas"):
        nin = population.persona(key).nin
        found = (await _post(trondheim, "/appointments/_search", {"nin": nin}))["appointments"]
        expected = {a.id: a for a in records.record(nin).appointments if a.system == "municipal"}
        assert sorted(a["id"] for a in found) == sorted(expected), key
        starts = [dt.datetime.fromisoformat(a["start"]) for a in found]
        assert starts == sorted(starts)
        for item in found:
            source = expected[item["id"]]
            start, end = (dt.datetime.fromisoformat(item[k]) for k in ("start", "end"))
            assert start.utcoffset() is not None
            assert start == source.start
            assert end - start == dt.timedelta(minutes=source.minutes)
            assert item["status"] in STATUSES
            assert item["service"] == source.service
            place = records.catalogue.location_by_id[source.location_id]
            home = population.persona(key).address
            assert item["place"] == (
                {"name": "Hjemmebesøk", "street": home.street, "city": home.city}
                if source.service == HOME_VISIT
                else {"name": place.name, "street": place.street, "city": place.city}
            )
            assert item["keptFromGuardians"] is source.security.kept_from_guardians
            staff = records.catalogue.practitioner_by_id[source.practitioner_id]
            assert item["staff"] == {"name": f"{staff.given} {staff.family}", "role": staff.role}
            assert item["video"] is source.video


async def test_appointment_statuses_use_the_api_vocabulary(
    trondheim: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    mapping = {"fulfilled": "completed", "noshow": "noShow", "booked": "booked"}
    mapping["cancelled"] = "cancelled"
    seen: set[str] = set()
    residents = [p for p in population if p.address.municipality == "5001"][:30]
    for person in residents:
        found = await _post(trondheim, "/appointments/_search", {"nin": person.nin})
        by_id = {a.id: a for a in records.record(person.nin).appointments}
        for item in found["appointments"]:
            assert item["status"] == mapping[by_id[item["id"]].status]
            seen.add(item["status"])
    assert seen == STATUSES


async def test_appointments_filter_by_date(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    nin = population.persona("kari").nin
    every = (await _post(trondheim, "/appointments/_search", {"nin": nin}))["appointments"]
    today = population.today.isoformat()
    upcoming = await _post(trondheim, "/appointments/_search", {"nin": nin, "from": today})
    past = await _post(trondheim, "/appointments/_search", {"nin": nin, "to": today})
    assert upcoming["appointments"]
    assert all(a["start"][:10] >= today for a in upcoming["appointments"])
    assert all(a["start"][:10] <= today for a in past["appointments"])
    assert {a["id"] for a in upcoming["appointments"] + past["appointments"]} == {
        a["id"] for a in every
    }
    one_day = every[0]["start"][:10]
    exact = await _post(
        trondheim, "/appointments/_search", {"nin": nin, "from": one_day, "to": one_day}
    )
    assert [a["id"] for a in exact["appointments"]] == [
        a["id"] for a in every if a["start"][:10] == one_day
    ]


async def test_vaccinations_are_the_health_station_records(
    trondheim: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key in ("kari", "emil", "ida", "jonas"):
        nin = population.persona(key).nin
        found = (await _post(trondheim, "/vaccinations/_search", {"nin": nin}))["vaccinations"]
        expected = [v for v in records.record(nin).vaccinations if v.municipal]
        assert [(v["id"], v["atc"], v["name"], v["date"]) for v in found] == [
            (v.id, v.atc, v.name, v.date.isoformat()) for v in expected
        ], key
        assert {v["station"] for v in found} == {"Trondheim helsestasjon"}


async def test_home_care_decisions_are_small_deterministic_and_mostly_for_the_elderly(
    records: RecordStore, population: Population
) -> None:
    served = {"old": 0, "young": 0}
    counted = {"old": 0, "young": 0}
    for code in ("5001", "5037", "0301"):
        async with await _client(records, code) as client:
            for person in [p for p in population if p.address.municipality == code]:
                body = {"nin": person.nin}
                first = await _post(client, "/services/_search", body)
                assert first == await _post(client, "/services/_search", body)
                assert len(first["services"]) <= 3
                for decision in first["services"]:
                    assert set(decision) == {"id", "type", "status", "decidedOn"}
                    assert dt.date.fromisoformat(decision["decidedOn"]) < population.today
                group = "old" if person.age_on(population.today) >= 67 else "young"
                counted[group] += 1
                served[group] += bool(first["services"])
    assert served["old"] / counted["old"] > 0.3 > served["young"] / counted["young"]


@pytest.mark.parametrize("url", ["/appointments/_search", "/vaccinations/_search"])
async def test_paging_returns_every_item_exactly_once(
    trondheim: httpx.AsyncClient, population: Population, url: str
) -> None:
    key = url.split("/")[1]
    for person in [p for p in population if p.address.municipality == "5001"][:25]:
        whole = (await _post(trondheim, url, {"nin": person.nin}))[key]
        seen: list[Any] = []
        body: dict[str, Any] = {"nin": person.nin, "pageSize": 2}
        for _ in range(len(whole) + 1):
            page = await _post(trondheim, url, body)
            seen += page[key]
            if page["nextPageToken"] is None:
                break
            body["pageToken"] = page["nextPageToken"]
        assert seen == whole


async def test_a_page_token_is_bound_to_the_date_range(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    nin = population.persona("kari").nin
    first = await _post(trondheim, "/appointments/_search", {"nin": nin, "pageSize": 1})
    body = {"nin": nin, "from": "2020-01-01", "pageToken": first["nextPageToken"]}
    response = await trondheim.post("/appointments/_search", json=body)
    assert response.status_code == 400
    assert "pageToken" in response.json()["detail"]


async def test_validation_errors_name_the_field_and_never_an_identity_number(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").nin
    typo = kari[:-1] + str((int(kari[-1]) + 1) % 10)
    cases: list[tuple[str, Any, str]] = [
        ("/appointments/_search", {"nin": kari, "from": "2026-13-01"}, "from must be a date"),
        ("/appointments/_search", {"nin": kari, "to": 20261123}, "to must be a date"),
        (
            "/appointments/_search",
            {"nin": kari, "from": "2026-11-23", "to": "2026-11-01"},
            "to must not be before from",
        ),
        ("/appointments/_search", {"nin": typo}, "nin is not a valid"),
        ("/vaccinations/_search", {"nins": [kari]}, "accepts only: nin, pageSize, pageToken"),
        ("/vaccinations/_search", {"nin": kari, "pageSize": "5"}, "pageSize must be an integer"),
        ("/services/_search", {}, "nin is required"),
        ("/services/_search", {"nin": None}, "nin must be a string"),
    ]
    every_nin = [p.nin for p in population]
    for url, body, phrase in cases:
        response = await trondheim.post(url, json=body)
        assert response.status_code == 400, (url, phrase)
        assert phrase in response.json()["detail"], (url, phrase)
        assert not [n for n in [*every_nin, typo] if n in response.text], (url, phrase)


async def test_batch_mixes_residents_and_strangers(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari, ola = population.persona("kari").nin, population.persona("ola").nin
    requests = [
        {"id": "1", "method": "POST", "url": "/appointments/_search", "body": {"nin": kari}},
        {"id": "2", "method": "POST", "url": "/vaccinations/_search", "body": {"nin": ola}},
        {"id": "3", "method": "GET", "url": "/info"},
        {"id": "4", "method": "POST", "url": "/services/_search", "body": {"nin": 7}},
    ]
    entries = (await _post(trondheim, "/$batch", {"requests": requests}))["responses"]
    assert [(e["id"], e["status"]) for e in entries] == [
        ("1", 200),
        ("2", 404),
        ("3", 200),
        ("4", 400),
    ]
    assert entries[0]["body"] == await _post(trondheim, "/appointments/_search", {"nin": kari})
    assert entries[1]["body"]["type"].endswith("/unknown-resident")
    assert entries[2]["body"] == {"code": "5001", "name": "Trondheim"}
    nested = [{"id": "n", "method": "POST", "url": "/$batch", "body": {"requests": requests}}]
    refused = await trondheim.post("/$batch", json={"requests": nested})
    assert refused.status_code == 400
    too_many = [{"id": str(n), "method": "GET", "url": "/info"} for n in range(21)]
    assert (await trondheim.post("/$batch", json={"requests": too_many})).status_code == 400


@pytest.mark.parametrize("url", list(ENDPOINTS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_arbitrary_bodies_never_cause_a_server_error(
    records: RecordStore, population: Population, url: str, data: st.DataObject
) -> None:
    nins = [population.persona(k).nin for k in population.persona_keys]
    body = data.draw(json_bodies(ENDPOINTS[url], nins), label="body")
    async with await _client(records, "5001") as client:
        response = await client.post(url, content=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert not [n for n in nins if n in response.text]


async def test_ida_s_health_station_visit_is_kept_from_guardians(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    ida = population.persona("ida").nin
    found = (await _post(trondheim, "/appointments/_search", {"nin": ida}))["appointments"]
    kept = [a["service"] for a in found if a["keptFromGuardians"]]
    assert kept == ["Helsestasjon for ungdom"]
    assert any(a["keptFromGuardians"] is False for a in found)


@pytest.mark.parametrize("key", ["mona", "lea"])
async def test_nothing_reveals_a_strictly_confidential_home(
    records: RecordStore, population: Population, key: str
) -> None:
    person = population.persona(key)
    texts = []
    async with await _client(records, "0301") as oslo:
        for url in ("/appointments/_search", "/vaccinations/_search", "/services/_search"):
            response = await oslo.post(url, json={"nin": person.nin})
            assert response.status_code == 200, response.text
            texts.append(response.text)
        found = (await _post(oslo, "/appointments/_search", {"nin": person.nin}))["appointments"]
    for part in (person.address.street, person.address.postal_code):
        assert not [t for t in texts if part in t]
    visits = [a["place"] for a in found if a["service"] == HOME_VISIT]
    assert all(place == {"name": "Hjemmebesøk", "street": None, "city": None} for place in visits)
    if key == "mona":
        assert visits, "mona's fixed home visit is missing"
