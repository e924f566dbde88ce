"""The municipal applications and home-care sources against a stub municipality."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from sources.errors import UpstreamBadResponse, UpstreamRejected
from sources.models import SourceKind, SourceRef
from sources.municipal import MunicipalClient
from sources.municipal_applications import NewApplication
from sources.upstream import Upstream

NIN = "01017012345"
Answer = Callable[[httpx.Request], httpx.Response]
APPLICATION = {
    "id": "ap-1",
    "service": "respiteCare",
    "status": "received",
    "submittedAt": "2026-11-23T10:00:00+01:00",
    "description": "Avlastning",
    "wishedStart": "2026-12-01",
    "expectedDecisionOn": "2026-12-21",
    "decidedOn": None,
    "decisionId": None,
    "unit": "Tildelingskontoret",
}
VISIT = {
    "id": "hv-1",
    "service": "homeNursing",
    "start": "2026-11-24T08:00:00+01:00",
    "end": "2026-11-24T09:00:00+01:00",
    "status": "planned",
    "tasks": ["medication"],
    "team": "Hjemmetjenesten",
}


def client(answer: Answer, seen: list[httpx.Request]) -> MunicipalClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    upstream = Upstream(
        "MUNICIPAL 5001", "http://m.test/api", timeout_s=1, transport=httpx.MockTransport(handler)
    )
    return MunicipalClient({"5001": upstream}, {"5001": "Trondheim"})


def listing(key: str, items: list[Any]) -> Answer:
    return lambda request: httpx.Response(200, json={key: items, "nextPageToken": None})


async def test_applications_are_typed_and_another_persons_are_dropped() -> None:
    seen: list[httpx.Request] = []
    other = {**APPLICATION, "id": "ap-2", "nin": "02027012345"}
    found = await client(listing("applications", [APPLICATION, other]), seen).applications.of(
        "5001", NIN
    )
    assert [a.id for a in found] == ["ap-1"]
    [application] = found
    assert application.source == SourceRef(SourceKind.MUNICIPAL, "5001")
    assert application.wished_start == dt.date(2026, 12, 1)
    assert application.expected_decision_on == dt.date(2026, 12, 21)
    assert application.submitted_at == dt.datetime.fromisoformat("2026-11-23T10:00:00+01:00")
    assert orjson.loads(seen[0].content) == {"nin": NIN}
    assert NIN not in repr(application)


@pytest.mark.parametrize(
    "item", [{**APPLICATION, "status": None}, {**APPLICATION, "decidedOn": "soon"}, "x"]
)
async def test_a_malformed_application_is_a_bad_response(item: Any) -> None:
    with pytest.raises(UpstreamBadResponse):
        await client(listing("applications", [item]), []).applications.of("5001", NIN)


async def test_apply_sends_the_key_and_the_fields() -> None:
    seen: list[httpx.Request] = []
    created = client(lambda request: httpx.Response(201, json=APPLICATION), seen)
    new = NewApplication("respiteCare", "Avlastning", dt.date(2026, 12, 1), "+4791234567")
    application = await created.applications.apply("5001", NIN, new, idempotency="k" * 64)
    assert application.status == "received"
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/api/applications")
    assert request.headers["idempotency-key"] == "k" * 64
    assert orjson.loads(request.content) == {
        "nin": NIN,
        "service": "respiteCare",
        "description": "Avlastning",
        "wishedStart": "2026-12-01",
        "contactPhone": "+4791234567",
    }


async def test_a_refused_application_is_rejected_and_a_foreign_one_bad() -> None:
    problem = {"type": "x/invalid-field", "status": 422, "detail": "service ..."}
    refused = client(lambda request: httpx.Response(422, json=problem), [])
    new = NewApplication("respiteCare", "Avlastning")
    with pytest.raises(UpstreamRejected):
        await refused.applications.apply("5001", NIN, new, idempotency="key-00001")
    foreign = {**APPLICATION, "nin": "02027012345"}
    wrong = client(lambda request: httpx.Response(201, json=foreign), [])
    with pytest.raises(UpstreamBadResponse):
        await wrong.applications.apply("5001", NIN, new, idempotency="key-00001")


async def test_offerings_are_the_service_codes() -> None:
    offered = [{"type": "homeNursing"}, {"type": "dayCentre"}]
    found = await client(listing("offerings", offered), []).applications.offerings("5001")
    assert found == frozenset({"homeNursing", "dayCentre"})


async def test_visits_are_typed_sorted_and_filtered_by_day() -> None:
    seen: list[httpx.Request] = []
    earlier = {**VISIT, "id": "hv-0", "start": "2026-11-23T08:00:00+01:00", "end": None}
    found = await client(listing("visits", [VISIT, earlier]), seen).home_care.visits(
        "5001",
        NIN,
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 30),
    )
    assert [v.id for v in found] == ["hv-0", "hv-1"]
    assert found[1].tasks == ("medication",)
    assert found[0].end is None
    assert orjson.loads(seen[0].content) == {"nin": NIN, "from": "2026-11-23", "to": "2026-11-30"}


@pytest.mark.parametrize(
    "item",
    [
        {**VISIT, "start": "2026-11-24T08:00:00"},
        {**VISIT, "tasks": "medication"},
        {**VISIT, "id": 3},
    ],
)
async def test_a_malformed_visit_is_a_bad_response(item: Any) -> None:
    with pytest.raises(UpstreamBadResponse):
        await client(listing("visits", [item]), []).home_care.visits("5001", NIN)


async def test_a_non_resident_has_no_visits_or_applications() -> None:
    gone = client(lambda request: httpx.Response(404, json={"type": "x/unknown-resident"}), [])
    assert await gone.home_care.visits("5001", NIN) == []
    assert await gone.applications.of("5001", NIN) == []
