"""The GP, critical-information and municipal-services calls against scripted servers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sources.errors import UpstreamBadResponse
from sources.models import SourceKind
from sources.municipal import MunicipalClient
from sources.national import NationalClient
from sources.upstream import Upstream

KARI, EMIL, OTHER = "26878118862", "14901850101", "07851253887"
Answer = Callable[[str, dict[str, Any]], tuple[int, Any]]


def gp_entry(nin: str, **office: Any) -> dict[str, Any]:
    return {
        "nin": nin,
        "gp": {"name": "Dag Holm", "hprNumber": "9100130"},
        "office": {
            "name": "Trondheim legekontor",
            "street": "Prinsens gate 29",
            "city": "Trondheim",
            "phone": "+47 73 75 35 22",
        }
        | office,
    }


def upstream(name: str, answer: Answer, seen: list[httpx.Request]) -> Upstream:
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

    return Upstream(name, "http://up.test/api", timeout_s=1, transport=httpx.MockTransport(handler))


def national(answer: Answer, seen: list[httpx.Request] | None = None) -> NationalClient:
    return NationalClient(upstream("NATIONAL", answer, [] if seen is None else seen))


async def test_gps_of_several_people_are_one_request() -> None:
    seen: list[httpx.Request] = []
    asked: list[list[str]] = []

    def answer(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        assert path == "/gp/_search"
        asked.append(body["nins"])
        return 200, {"gps": [gp_entry(KARI), gp_entry(EMIL, street=None, city=None)]}

    client = national(answer, seen)
    kari, emil, other = await client.gps.load_many([KARI, EMIL, OTHER])
    assert asked == [sorted([KARI, EMIL, OTHER])]
    assert len(seen) == 1
    assert kari is not None
    assert kari.name == "Dag Holm"
    assert kari.hpr_number == "9100130"
    assert kari.office is not None
    assert kari.office.address is not None
    assert kari.office.address.street == "Prinsens gate 29"
    assert kari.office.phone == "+47 73 75 35 22"
    assert emil is not None
    assert emil.office is not None
    assert emil.office.address is None
    assert other is None  # not listed: no GP


async def test_a_gp_listing_for_someone_else_is_dropped() -> None:
    client = national(lambda path, body: (200, {"gps": [gp_entry(OTHER)]}))
    assert await client.gps.load(KARI) is None


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"gps": "nope"}, id="no-list"),
        pytest.param({"gps": [{"nin": KARI}]}, id="no-gp"),
        pytest.param({"gps": [{"nin": KARI, "gp": {"name": None}}]}, id="no-name"),
        pytest.param({"gps": [gp_entry(KARI) | {"office": "x"}]}, id="office-not-object"),
        pytest.param({"gps": [gp_entry(KARI, name=7)]}, id="office-name-not-text"),
    ],
)
async def test_a_malformed_gp_listing_is_a_bad_response(payload: dict[str, Any]) -> None:
    client = national(lambda path, body: (200, payload))
    with pytest.raises(UpstreamBadResponse) as caught:
        await client.gps.load(KARI)
    assert KARI not in str(caught.value)


async def test_critical_information_is_typed_and_paged() -> None:
    def answer(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        assert path == "/critical-information/_search"
        assert body["nin"] == KARI
        if body.get("pageToken") == "p2":
            item = {"id": "ci2", "type": "implant", "text": "Pacemaker", "registeredOn": None}
            return 200, {"criticalInformation": [item], "nextPageToken": None}
        item = {"id": "ci1", "type": "allergy", "text": "Peanøtter", "registeredOn": "2020-07-29"}
        return 200, {"criticalInformation": [item], "nextPageToken": "p2"}

    entries = await national(answer).critical_information(KARI)
    assert [(e.id, e.kind, e.text, e.registered_on) for e in entries] == [
        ("ci1", "allergy", "Peanøtter", dt.date(2020, 7, 29)),
        ("ci2", "implant", "Pacemaker", None),
    ]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"id": "ci1", "type": "rumour", "text": "x"}, id="unknown-type"),
        pytest.param({"id": "ci1", "type": "allergy"}, id="no-text"),
        pytest.param({"id": "ci1", "type": "allergy", "text": ""}, id="empty-text"),
        pytest.param(
            {"id": "ci1", "type": "allergy", "text": "x", "registeredOn": "soon"}, id="bad-date"
        ),
        pytest.param("not an object", id="not-an-object"),
    ],
)
async def test_malformed_critical_information_is_a_bad_response(item: Any) -> None:
    client = national(lambda path, body: (200, {"criticalInformation": [item]}))
    with pytest.raises(UpstreamBadResponse):
        await client.critical_information(KARI)


def municipal(answer: Answer) -> MunicipalClient:
    return MunicipalClient({"5001": upstream("MUNICIPAL 5001", answer, [])}, {"5001": "Trondheim"})


async def test_municipal_services_are_typed_with_their_source() -> None:
    def answer(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        assert path == "/services/_search"
        item = {"id": "vd-1", "type": "homeNursing", "status": "granted", "decidedOn": "2023-11-02"}
        return 200, {"services": [item, item | {"id": "vd-2", "type": "new", "decidedOn": None}]}

    entries = await municipal(answer).services("5001", KARI)
    assert [(e.id, e.kind, e.status, e.decided_on) for e in entries] == [
        ("vd-1", "homeNursing", "granted", dt.date(2023, 11, 2)),
        ("vd-2", "new", "granted", None),
    ]
    assert {(e.source.kind, e.source.municipality) for e in entries} == {
        (SourceKind.MUNICIPAL, "5001")
    }


async def test_municipal_services_of_a_non_resident_are_empty() -> None:
    client = municipal(lambda path, body: (404, {"type": "unknown-resident"}))
    assert await client.services("5001", KARI) == []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"services": None}, id="no-list"),
        pytest.param({"services": [{"id": "vd-1", "type": "homeNursing"}]}, id="no-status"),
        pytest.param(
            {"services": [{"id": "vd-1", "type": 3, "status": "granted"}]}, id="type-not-text"
        ),
        pytest.param(
            {"services": [{"id": "v", "type": "x", "status": "granted", "decidedOn": "x"}]},
            id="bad-date",
        ),
    ],
)
async def test_malformed_municipal_services_are_a_bad_response(payload: dict[str, Any]) -> None:
    with pytest.raises(UpstreamBadResponse):
        await municipal(lambda path, body: (200, payload)).services("5001", KARI)
