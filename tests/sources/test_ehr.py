"""The EHR client against a scripted FHIR server (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from sources.ehr import NIN_SYSTEM, EhrClient
from sources.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from sources.upstream import Upstream

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def bundle(
    *resources: dict[str, Any], included: tuple[dict[str, Any], ...] = (), total: int | None = None
) -> dict[str, Any]:
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in included]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "entry": entries,
    }


APPOINTMENT = {
    "resourceType": "Appointment",
    "id": "ap1",
    "status": "booked",
    "start": "2026-12-01T09:00:00+01:00",
    "end": "2026-12-01T09:30:00+01:00",
    "serviceType": [{"text": "Poliklinikk"}],
    "participant": [
        {"actor": {"reference": "Patient/e1"}, "status": "accepted"},
        {"actor": {"reference": "Practitioner/pr1"}, "status": "accepted"},
        {"actor": {"reference": "Location/loc1"}, "status": "accepted"},
    ],
}
MESSAGE = {
    "resourceType": "Communication",
    "id": "cm1",
    "status": "completed",
    "meta": {
        "security": [
            {
                "system": "https://fhir.helsegraf.dev/CodeSystem/portal-visibility",
                "code": "kept-from-guardians",
            }
        ]
    },
    "partOf": [
        {
            "identifier": {
                "system": "https://fhir.helsegraf.dev/NamingSystem/message-thread",
                "value": "th1",
            }
        }
    ],
    "subject": {"reference": "Patient/e1"},
    "sender": {"reference": "Practitioner/pr1", "display": "Anne Aas"},
    "payload": [{"contentString": "Hei"}],
    "extension": [
        {
            "url": "https://fhir.helsegraf.dev/StructureDefinition/patient-read",
            "valueBoolean": False,
        }
    ],
}
PRACTITIONER = {
    "resourceType": "Practitioner",
    "id": "pr1",
    "name": [{"family": "Aas", "given": ["Anne"]}],
}
LOCATION = {
    "resourceType": "Location",
    "id": "loc1",
    "name": "St. Olavs",
    "address": {"line": ["Prinsens gate 1"], "city": "Trondheim", "postalCode": "7030"},
}


def client(
    handler: Callable[[httpx.Request], httpx.Response], timeout_s: float = 1.0
) -> tuple[EhrClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    upstream = Upstream(
        "EHR", "http://ehr.test/fhir", timeout_s=timeout_s, transport=httpx.MockTransport(recording)
    )
    return EhrClient(upstream), seen


async def test_a_lone_search_is_a_post_search_keeping_the_identifier_out_of_the_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/fhir/Patient/_search"
        form = parse_qs(request.content.decode())
        assert form["identifier"] == [f"{NIN_SYSTEM}|26878118862"]
        patient = {
            "resourceType": "Patient",
            "id": "e1",
            "identifier": [{"system": NIN_SYSTEM, "value": "26878118862"}],
        }
        return httpx.Response(200, json=bundle(patient))

    ehr, seen = client(handler)
    assert await ehr.patient_id("26878118862") == "e1"
    assert len(seen) == 1
    assert "26878118862" not in str(seen[0].url)


async def test_sibling_reads_go_out_as_one_batch_bundle() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path in ("/fhir", "/fhir/")
        sent = json.loads(request.content)
        assert sent["type"] == "batch"
        urls = [e["request"]["url"] for e in sent["entry"]]
        responses = []
        for url in urls:
            if url.startswith("Appointment?"):
                resource = bundle(APPOINTMENT, included=(PRACTITIONER, LOCATION))
            elif url.startswith("Communication?"):
                resource = bundle(MESSAGE)
            else:
                resource = bundle()
            responses.append({"response": {"status": "200 OK"}, "resource": resource})
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "batch-response", "entry": responses}
        )

    ehr, seen = client(handler)
    appointments, unread, labs = await asyncio.gather(
        ehr.appointments.of("e1", upcoming=True, now=NOW),
        ehr.messages.of("e1"),
        ehr.lab_results("e1", 5),
    )
    assert len(seen) == 1
    assert [a.id for a in appointments] == ["ap1"]
    assert [(m.id, m.read, m.thread_id, m.security.kept_from_guardians) for m in unread] == [
        ("cm1", False, "th1", True)
    ]
    assert labs == []
    # included resources prime the loaders: no further request
    practitioner = await ehr.practitioners.load("pr1")
    location = await ehr.locations.load("loc1")
    assert practitioner is not None
    assert practitioner.value.name == "Anne Aas"
    assert not practitioner.stale
    assert location is not None
    assert location.value.address is not None
    assert location.value.address.city == "Trondheim"
    assert len(seen) == 1


async def test_practitioners_load_in_one_id_search() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        assert form["_id"] == ["pr1,pr2"]
        return httpx.Response(200, json=bundle(PRACTITIONER))

    ehr, seen = client(handler)
    found = await asyncio.gather(ehr.practitioners.load("pr2"), ehr.practitioners.load("pr1"))
    assert found[0] is None
    assert found[1] is not None
    assert len(seen) == 1


async def test_a_failed_batch_entry_fails_only_its_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "resourceType": "Bundle",
                "type": "batch-response",
                "entry": [
                    {"response": {"status": "200 OK"}, "resource": bundle(total=2)},
                    {
                        "response": {"status": "500 Internal Server Error"},
                        "resource": {"resourceType": "OperationOutcome", "issue": []},
                    },
                ],
            },
        )

    ehr, _ = client(handler)
    unread, labs = await asyncio.gather(
        ehr.messages.of("e1"), ehr.lab_results("e1", 5), return_exceptions=True
    )
    assert unread == []
    assert isinstance(labs, UpstreamUnavailable)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        pytest.param(httpx.Response(503), UpstreamUnavailable, id="server-error"),
        pytest.param(
            httpx.Response(200, content=b"{not json"), UpstreamBadResponse, id="malformed-json"
        ),
        pytest.param(
            httpx.Response(200, json={"resourceType": "OperationOutcome"}),
            UpstreamBadResponse,
            id="not-a-bundle",
        ),
    ],
)
async def test_failures_become_upstream_errors(
    response: httpx.Response, error: type[Exception]
) -> None:
    ehr, _ = client(lambda request: response)
    with pytest.raises(error) as caught:
        await ehr.patient_id("26878118862")
    assert "26878118862" not in str(caught.value)


async def test_the_deadline_covers_the_whole_call() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=bundle())

    upstream = Upstream(
        "EHR", "http://ehr.test/fhir", timeout_s=0.05, transport=httpx.MockTransport(slow)
    )
    with pytest.raises(UpstreamTimeout):
        await EhrClient(upstream).patient_id("26878118862")
