"""Records that belong to another person than the one asked for never leave the sources."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import httpx
import pytest

from sources.ehr import NIN_SYSTEM, EhrClient
from sources.national import NationalClient
from sources.ownership import belongs_to_patient, own_items
from sources.upstream import Upstream

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
KARI, OLA = "26878118862", "12057900499"


def patient(ref: str) -> dict[str, str]:
    return {"reference": ref}


@pytest.mark.parametrize(
    ("resource", "owned"),
    [
        pytest.param(
            {"resourceType": "Observation", "subject": patient("Patient/e1")},
            True,
            id="observation-of-the-patient",
        ),
        pytest.param(
            {"resourceType": "Observation", "subject": patient("Patient/e2")},
            False,
            id="observation-of-someone-else",
        ),
        pytest.param(
            {"resourceType": "Observation", "subject": patient("https://ehr/R4/Patient/e1")},
            True,
            id="absolute-reference",
        ),
        pytest.param({"resourceType": "Observation"}, False, id="observation-without-subject"),
        pytest.param(
            {"resourceType": "MedicationStatement", "subject": patient("Patient/e2")},
            False,
            id="medication-of-someone-else",
        ),
        pytest.param(
            {"resourceType": "Communication", "subject": patient("Patient/e10")},
            False,
            id="message-of-a-patient-whose-id-starts-alike",
        ),
        pytest.param(
            {
                "resourceType": "Appointment",
                "participant": [
                    {"actor": patient("Patient/e1")},
                    {"actor": patient("Practitioner/pr1")},
                ],
            },
            True,
            id="appointment-of-the-patient",
        ),
        pytest.param(
            {
                "resourceType": "Appointment",
                "participant": [{"actor": patient("Patient/e1")}, {"actor": patient("Patient/e2")}],
            },
            False,
            id="appointment-naming-another-patient-too",
        ),
        pytest.param(
            {"resourceType": "Appointment", "participant": [{"actor": patient("Location/l1")}]},
            False,
            id="appointment-without-a-patient",
        ),
        pytest.param(
            {"resourceType": "AuditEvent", "entity": [{"what": patient("Patient/e2")}]},
            False,
            id="access-event-on-another-record",
        ),
        pytest.param(
            {"resourceType": "AuditEvent", "entity": [{"what": patient("Patient/e1")}]},
            True,
            id="access-event-on-the-record",
        ),
        pytest.param({"resourceType": "Practitioner", "id": "pr1"}, True, id="shared-directory"),
    ],
)
def test_belongs_to_patient(resource: dict[str, Any], owned: bool) -> None:
    assert belongs_to_patient(resource, "e1") is owned


def observation(id_: str, patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"text": "Hemoglobin"},
        "effectiveDateTime": "2026-11-01T09:00:00+01:00",
    }


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def ehr(answer: dict[str, Any]) -> EhrClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    return EhrClient(Upstream("EHR", "http://ehr.test/fhir", timeout_s=1, transport=transport))


async def test_the_ehr_client_drops_another_patients_records_and_logs_a_count_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bundle = searchset(observation("ob1", "e1"), observation("ob2", "e2"), observation("ob3", "e3"))
    with caplog.at_level(logging.WARNING, logger="helsegraf.sources"):
        labs = await ehr(bundle).lab_results("e1", 10)
    assert [lab.id for lab in labs] == ["ob1"]
    assert [r.getMessage() for r in caplog.records] == [
        "EHR returned 2 Observation record(s) belonging to another person; dropped"
    ]
    assert not any(secret in caplog.text for secret in ("e2", "e3", "ob2", "ob3"))


async def test_a_patient_search_answered_with_someone_else_finds_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = {
        "resourceType": "Patient",
        "id": "e2",
        "identifier": [{"system": NIN_SYSTEM, "value": OLA}],
    }
    with caplog.at_level(logging.WARNING, logger="helsegraf.sources"):
        assert await ehr(searchset(other)).patient_id(KARI) is None
    assert "1 Patient record(s)" in caplog.text
    assert OLA not in caplog.text
    assert KARI not in caplog.text


async def test_a_created_message_for_another_patient_is_refused() -> None:
    created = {
        "resourceType": "Communication",
        "id": "cm9",
        "subject": {"reference": "Patient/e2"},
        "payload": [{"contentString": "Hei"}],
    }
    client = ehr(created)
    with pytest.raises(Exception, match="another patient"):
        await client.messages.send(
            "e1",
            subject=None,
            text="Hei",
            thread_id=None,
            sent_by="SELF",
            idempotency="k1",
            now=NOW,
        )


def person(nin: str) -> dict[str, Any]:
    return {"nin": nin, "givenName": "X", "familyName": "Y", "birthDate": "1981-07-26"}


async def test_the_national_client_drops_persons_not_asked_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/persons/_search"):
            return httpx.Response(200, json={"persons": [person(KARI), person(OLA)]})
        assert json.loads(request.content) == {"holderNin": KARI}
        powers = [
            {"id": "p1", "grantorNin": OLA, "holderNin": KARI, "kind": "x", "validFrom": ""},
            {"id": "p2", "grantorNin": KARI, "holderNin": OLA, "kind": "x", "validFrom": ""},
        ]
        return httpx.Response(200, json={"powersOfAttorney": powers, "nextPageToken": None})

    national = NationalClient(
        Upstream(
            "NATIONAL",
            "http://national.test/api",
            timeout_s=1,
            transport=httpx.MockTransport(handler),
        )
    )
    with caplog.at_level(logging.WARNING, logger="helsegraf.sources"):
        found = await national.persons.load(KARI)
        powers = await national.powers_held_by(KARI)
    assert found is not None
    assert found.nin == KARI
    assert [p.id for p in powers] == ["p1"]
    assert [r.getMessage() for r in caplog.records] == [
        "NATIONAL returned 1 person record(s) belonging to another person; dropped",
        "NATIONAL returned 1 power of attorney record(s) belonging to another person; dropped",
    ]
    assert OLA not in caplog.text
    assert KARI not in caplog.text


def test_items_that_carry_no_national_number_are_kept() -> None:
    items = [{"id": "v1"}, {"id": "v2", "nin": KARI}, {"id": "v3", "nin": OLA}]
    kept = own_items(items, {KARI}, source="MUNICIPAL 5001", kind="vaccination")
    assert [i["id"] for i in kept] == ["v1", "v2"]
