"""Message sources: Communication parsing (counterpart, replies, guardians), the mark-read
PUT (If-Match, only patient-read changed), and the municipal messaging client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sources import fhir
from sources.ehr import EhrClient
from sources.errors import UpstreamBadResponse, UpstreamConflict
from sources.models import SourceKind
from sources.municipal import MunicipalClient
from sources.upstream import Upstream

NIN = "26078147512"


def communication(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "id": "p1-cm1",
        "meta": {"versionId": "3"},
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "sender": {"reference": "Practitioner/pr1", "display": "Eva Lie"},
        "payload": [{"contentString": "Hei"}],
        "extension": [{"url": fhir.PATIENT_READ_URL, "valueBoolean": False}],
        **extra,
    }


def test_a_communication_names_its_counterpart_and_what_it_answers() -> None:
    plain = fhir.message(communication())
    assert (plain.counterpart, plain.counterpart_kind, plain.counterpart_key) == (
        "Eva Lie",
        "HOSPITAL",
        "Practitioner/pr1",
    )
    assert plain.read is False
    own = fhir.message(
        communication(
            sender={"reference": "Patient/p1"},
            recipient=[
                {
                    "identifier": {"system": fhir.RECIPIENT_SYSTEM, "value": "gp:123"},
                    "display": "Legekontoret",
                }
            ],
            category=[{"coding": [{"system": fhir.COUNTERPART_SYSTEM, "code": "gp"}]}],
            inResponseTo=[{"reference": "Communication/p1-cm0"}],
            extension=[{"url": fhir.SENT_BY_BASIS_URL, "valueCode": "PARENT"}],
        )
    )
    assert own.from_patient is True
    assert (own.counterpart, own.counterpart_kind, own.counterpart_key) == (
        "Legekontoret",
        "GP",
        "gp:123",
    )
    assert own.in_response_to == "p1-cm0"
    assert own.security.written_by_guardian is True


def client(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[EhrClient, list[Any]]:
    seen: list[Any] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    upstream = Upstream(
        "EHR", "http://ehr.test/fhir", timeout_s=1.0, transport=httpx.MockTransport(recording)
    )
    return EhrClient(upstream), seen


async def test_mark_read_puts_the_same_resource_with_only_patient_read_true() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=communication())
        body = json.loads(request.content)
        return httpx.Response(200, json={**body, "meta": {"versionId": "4"}})

    ehr, seen = client(handler)
    marked = await ehr.messages.mark_read("p1", "p1-cm1")
    assert marked is not None
    assert marked.read is True
    put = seen[-1]
    assert (put.method, put.url.path) == ("PUT", "/fhir/Communication/p1-cm1")
    assert put.headers["if-match"] == 'W/"3"'
    sent = json.loads(put.content)
    assert {k: v for k, v in sent.items() if k != "extension"} == {
        k: v for k, v in communication().items() if k != "extension"
    }
    assert sent["extension"] == [{"url": fhir.PATIENT_READ_URL, "valueBoolean": True}]


async def test_mark_read_of_a_read_message_writes_nothing_and_a_conflict_is_raised() -> None:
    read = communication(extension=[{"url": fhir.PATIENT_READ_URL, "valueBoolean": True}])
    ehr, seen = client(lambda r: httpx.Response(200, json=read))
    assert (await ehr.messages.mark_read("p1", "p1-cm1")) is not None
    assert [r.method for r in seen] == ["GET"]

    def changed(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=communication())
        return httpx.Response(412, json={"resourceType": "OperationOutcome", "issue": []})

    ehr, _ = client(changed)
    with pytest.raises(UpstreamConflict):
        await ehr.messages.mark_read("p1", "p1-cm1")


def municipal(handler: Callable[[httpx.Request], httpx.Response]) -> MunicipalClient:
    upstream = Upstream(
        "MUNICIPAL 5037",
        "http://m.test/api",
        timeout_s=1.0,
        transport=httpx.MockTransport(handler),
    )
    return MunicipalClient({"5037": upstream}, {"5037": "Levanger"})


ITEM = {
    "id": "mm1",
    "threadId": "mt1",
    "sentAt": "2026-11-20T09:00:00+01:00",
    "fromResident": False,
    "sentBy": None,
    "subject": "Innkalling",
    "text": "Velkommen",
    "read": False,
    "office": "Levanger kommune, helse og omsorg",
    "keptFromGuardians": True,
}


async def test_municipal_messages_are_typed_records_following_pages() -> None:
    pages = iter(
        [
            {"messages": [ITEM], "nextPageToken": "t2"},
            {"messages": [{**ITEM, "id": "mm2", "sentBy": "PARENT"}], "nextPageToken": None},
        ]
    )
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=next(pages))

    found = await municipal(handler).messages.of("5037", NIN)
    assert [m.id for m in found] == ["mm1", "mm2"]
    assert found[0].source.kind is SourceKind.MUNICIPAL
    assert found[0].source.municipality == "5037"
    assert (found[0].counterpart_kind, found[0].counterpart_key) == (
        "MUNICIPALITY",
        "municipality:5037",
    )
    assert found[0].security.kept_from_guardians is True
    assert found[1].security.written_by_guardian is True
    assert bodies[1]["pageToken"] == "t2"


async def test_a_malformed_municipal_message_is_a_bad_response_and_absent_is_none() -> None:
    broken = municipal(
        lambda r: httpx.Response(200, json={"messages": [{"id": 3}], "nextPageToken": None})
    )
    with pytest.raises(UpstreamBadResponse):
        await broken.messages.of("5037", NIN)
    missing = municipal(lambda r: httpx.Response(404, json={"title": "Unknown message"}))
    assert await missing.messages.mark_read("5037", NIN, "mm9") is None
