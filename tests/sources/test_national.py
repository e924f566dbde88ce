"""The national and municipal clients against scripted REST servers (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from sources.models import SourceKind
from sources.municipal import MunicipalClient
from sources.national import NationalClient
from sources.upstream import Upstream

PERSON = {
    "nin": "26878118862",
    "givenName": "Kari",
    "familyName": "Nordmann",
    "birthDate": "1981-07-26",
    "sex": "female",
    "address": {"street": "Kirkegata 12", "postalCode": "7013", "city": "Trondheim"},
    "municipality": "5001",
    "addressProtection": None,
    "livesAbroad": False,
    "deceasedDate": None,
    "parentalResponsibility": [{"childNin": "14901850101"}],
    "parents": [],
}


def answer(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if path == "/persons/_search":
        return 200, {"persons": [PERSON] if PERSON["nin"] in body["nins"] else []}
    if path == "/prescriptions/_search":
        if body.get("pageToken") == "p2":
            return 200, {
                "prescriptions": [
                    {"id": "rx2", "atc": "C10AA01", "name": "Simvastatin", "status": "active"}
                ],
                "nextPageToken": None,
            }
        return 200, {
            "prescriptions": [
                {"id": "rx1", "atc": "H03AA01", "name": "Levaxin", "status": "active"}
            ],
            "nextPageToken": "p2",
        }
    if path == "/vaccinations/_search":
        return 503, {"title": "down"}
    return 404, {"title": "no route"}


def national(seen: list[httpx.Request]) -> NationalClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        if request.url.path.endswith("/$batch"):
            responses = []
            for item in body["requests"]:
                status, payload = answer(item["url"], item["body"])
                responses.append({"id": item["id"], "status": status, "body": payload})
            return httpx.Response(200, json={"responses": responses})
        status, payload = answer(request.url.path.removeprefix("/api"), body)
        return httpx.Response(status, json=payload)

    return NationalClient(
        Upstream(
            "NATIONAL",
            "http://national.test/api",
            timeout_s=1,
            transport=httpx.MockTransport(handler),
        )
    )


async def test_siblings_share_one_batch_and_failures_stay_apart() -> None:
    seen: list[httpx.Request] = []
    client = national(seen)
    facts, prescriptions, vaccinations = await asyncio.gather(
        client.persons.load("26878118862"),
        client.prescriptions("26878118862"),
        client.vaccinations("26878118862"),
        return_exceptions=True,
    )
    assert not isinstance(facts, BaseException)
    assert facts is not None
    assert facts.name == "Kari Nordmann"
    assert facts.children == ("14901850101",)
    assert not isinstance(prescriptions, BaseException)
    # the second page is a second level: one more request
    assert [p.id for p in prescriptions] == ["rx1", "rx2"]
    assert all(p.source.kind is SourceKind.NATIONAL for p in prescriptions)
    assert isinstance(vaccinations, Exception)
    assert [r.url.path for r in seen] == ["/api/$batch", "/api/prescriptions/_search"]
    for request in seen:
        assert "26878118862" not in str(request.url)


async def test_unknown_person_is_none() -> None:
    client = national([])
    assert await client.persons.load("07851253887") is None


async def test_municipal_non_resident_is_an_empty_list_not_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"type": "unknown-resident", "title": "Unknown resident"})

    upstream = Upstream(
        "MUNICIPAL 5001", "http://m.test", timeout_s=1, transport=httpx.MockTransport(handler)
    )
    client = MunicipalClient({"5001": upstream}, {"5001": "Trondheim"})
    assert client.serves("5001")
    assert not client.serves("0301")
    assert not client.serves(None)
    assert client.name("5001") == "Trondheim"
    assert await client.appointments("5001", "26878118862") == []


def test_a_registry_read_of_an_unknown_kind_is_always_checked_again() -> None:
    """`about` picks the reads a cached answer rests on; a read whose kind it does not
    know could name anyone, so it is kept (checked again), never dropped."""
    from sources.registry_reads import POWERS, about

    reads: dict[tuple[str, bytes], Any] = {
        (POWERS, b'{"holderNin": "x"}'): {"powers": []},
        ("/guardianships/_search", b'{"wardNin": "y"}'): {"guardianships": []},
    }
    assert set(about(reads, ["z"])) == {("/guardianships/_search", b'{"wardNin": "y"}')}
