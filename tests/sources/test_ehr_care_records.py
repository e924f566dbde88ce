"""Parsing referrals, care teams, journal requests and medication statements, and the
comment write (If-Match, one fresh retry on a conflict, at most once per key)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sources import ehr_care_team, ehr_journal_requests, ehr_medications, ehr_referrals
from sources.ehr import EhrClient
from sources.errors import UpstreamConflict
from sources.upstream import Upstream

EXT = "https://fhir.helsegraf.dev/StructureDefinition/"
PATIENT = "p1"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[EhrClient, list[str]]:
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return handler(request)

    upstream = Upstream(
        "EHR", "http://ehr.test/fhir", timeout_s=1.0, transport=httpx.MockTransport(recording)
    )
    return EhrClient(upstream), seen


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def test_a_referral_without_a_workflow_status_falls_back_on_the_request_status() -> None:
    base = {"resourceType": "ServiceRequest", "id": "sr1", "subject": {"reference": "Patient/p1"}}
    assert ehr_referrals.referral({**base, "status": "revoked"}, None).status == "rejected"
    assert ehr_referrals.referral({**base, "status": "active"}, None).status == "received"
    odd = {**base, "extension": [{"url": EXT + "referral-status", "valueCode": "teleported"}]}
    assert ehr_referrals.referral({**odd, "status": "completed"}, None).status == "completed"


@pytest.mark.parametrize(
    ("duration", "weeks"),
    [
        ({"value": 6, "code": "wk"}, 6),
        ({"value": 28, "code": "d"}, 4),
        ({"value": 3, "unit": "mo"}, 13),
        ({"value": 3, "code": "parsec"}, None),
        ({"code": "wk"}, None),
    ],
)
def test_expected_waiting_time_in_weeks(duration: dict[str, Any], weeks: int | None) -> None:
    resource = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "active",
        "extension": [{"url": EXT + "expected-waiting-time", "valueDuration": duration}],
    }
    assert ehr_referrals.referral(resource, None).expected_wait_weeks == weeks


async def test_referrals_join_their_waiting_list_place_and_drop_other_patients() -> None:
    mine = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
    }
    other = {**mine, "id": "sr2", "subject": {"reference": "Patient/p2"}}
    episode = {
        "resourceType": "EpisodeOfCare",
        "id": "eo1",
        "status": "waitlist",
        "patient": {"reference": "Patient/p1"},
        "referralRequest": [{"reference": "ServiceRequest/sr1"}],
        "period": {"start": "2026-10-01"},
        "extension": [{"url": EXT + "expected-start", "valueDate": "2027-01-10"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        answers = []
        for entry in body["entry"]:
            found = (
                searchset(mine, other)
                if entry["request"]["url"].startswith("Service")
                else searchset(episode)
            )
            answers.append({"resource": found, "response": {"status": "200 OK"}})
        return httpx.Response(
            200, json={"resourceType": "Bundle", "type": "batch-response", "entry": answers}
        )

    ehr, seen = client(handler)
    found = await ehr.referrals.of(PATIENT)
    assert seen == ["POST /fhir/"]  # both searches in one batch
    assert [r.id for r in found] == ["sr1"]
    place = found[0].waiting_list
    assert place is not None
    assert place.waitlist
    assert str(place.expected_start) == "2027-01-10"


def test_care_team_members_carry_only_a_work_phone() -> None:
    team = {
        "resourceType": "CareTeam",
        "id": "ct1",
        "subject": {"reference": "Patient/p1"},
        "participant": [
            {
                "role": [{"text": "Psykolog"}],
                "member": {"reference": "Practitioner/x", "display": "Eva Moe"},
                "extension": [
                    {
                        "url": EXT + "participant-contact",
                        "valueContactPoint": {
                            "system": "phone",
                            "value": "+47 900",
                            "use": "mobile",
                        },
                    }
                ],
            }
        ],
    }
    (member,) = ehr_care_team.members(team)
    assert (member.id, member.role, member.role_text, member.phone) == (
        "ct1.0",
        "other",
        "Psykolog",
        None,
    )


def test_tasks_of_other_kinds_are_not_journal_requests() -> None:
    task = {"resourceType": "Task", "id": "t1", "status": "requested", "code": {"text": "x"}}
    assert ehr_journal_requests.journal_request(task) is None
    coded = {
        **task,
        "status": "on-hold",
        "code": {"coding": [{"system": ehr_journal_requests.KIND_SYSTEM, "code": "correction"}]},
    }
    parsed = ehr_journal_requests.journal_request(coded)
    assert parsed is not None
    assert (parsed.kind, parsed.status) == ("correction", "other")


STATEMENT = {
    "resourceType": "MedicationStatement",
    "id": "ms1",
    "meta": {"versionId": "1"},
    "status": "active",
    "subject": {"reference": "Patient/p1"},
    "medicationCodeableConcept": {"text": "Paracet"},
    "note": [{"text": "Legemiddelform: tablett"}],
}


def test_statements_tell_origin_confirmation_form_and_comments() -> None:
    clinician = ehr_medications.medication(STATEMENT)
    assert (clinician.reported_by_patient, clinician.confirmed, clinician.form) == (
        False,
        True,
        "tablett",
    )
    reported = ehr_medications.medication(
        {
            **STATEMENT,
            "meta": {
                "tag": [{"system": ehr_medications.ORIGIN_SYSTEM, "code": "patient-reported"}]
            },
            "note": [
                {
                    "text": "Hei",
                    "authorReference": {"reference": "Patient/p1"},
                    "time": "2026-11-01T10:00:00+01:00",
                },
                {"text": "Svar", "authorReference": {"reference": "Practitioner/x"}},
            ],
        }
    )
    assert (reported.reported_by_patient, reported.confirmed) == (True, False)
    assert [(c.text, c.by_patient) for c in reported.comments] == [("Hei", True), ("Svar", False)]


def _versions(conflicts: int) -> Callable[[httpx.Request], httpx.Response]:
    state = {"conflicts": conflicts}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=STATEMENT)
        if request.method == "POST":  # the fresh read, by _id
            return httpx.Response(200, json=searchset({**STATEMENT, "meta": {"versionId": "2"}}))
        if state["conflicts"] > 0:
            state["conflicts"] -= 1
            return httpx.Response(412, json={"resourceType": "OperationOutcome", "issue": []})
        sent = json.loads(request.content)
        return httpx.Response(200, json={**sent, "meta": {"versionId": "9"}})

    return handler


async def test_a_comment_is_an_appended_patient_note_sent_with_if_match() -> None:
    ehr, seen = client(_versions(0))
    updated = await ehr.medications.comment(
        PATIENT, "ms1", "Tar den om kvelden", idempotency="k" * 64
    )
    assert updated is not None
    assert [c.text for c in updated.comments] == ["Tar den om kvelden"]
    assert seen == ["GET /fhir/MedicationStatement/ms1", "PUT /fhir/MedicationStatement/ms1"]


async def test_a_conflict_is_retried_once_on_a_fresh_read_then_raised() -> None:
    ehr, seen = client(_versions(1))
    assert await ehr.medications.comment(PATIENT, "ms1", "Hei", idempotency="k" * 64)
    assert seen == [
        "GET /fhir/MedicationStatement/ms1",
        "PUT /fhir/MedicationStatement/ms1",
        "POST /fhir/MedicationStatement/_search",
        "PUT /fhir/MedicationStatement/ms1",
    ]
    ehr, seen = client(_versions(2))
    with pytest.raises(UpstreamConflict):
        await ehr.medications.comment(PATIENT, "ms1", "Hei", idempotency="k" * 64)
    assert len(seen) == 4


async def test_a_comment_already_written_under_the_key_is_not_written_again() -> None:
    written = {
        **STATEMENT,
        "note": [
            {
                "text": "Hei",
                "authorReference": {"reference": "Patient/p1"},
                "extension": [{"url": ehr_medications.COMMENT_KEY_URL, "valueString": "k" * 64}],
            }
        ],
    }
    ehr, seen = client(lambda request: httpx.Response(200, json=written))
    found = await ehr.medications.comment(PATIENT, "ms1", "Hei", idempotency="k" * 64)
    assert found is not None
    assert seen == ["GET /fhir/MedicationStatement/ms1"]


async def test_another_patients_statement_is_not_commented() -> None:
    other = {**STATEMENT, "subject": {"reference": "Patient/p2"}}
    ehr, seen = client(lambda request: httpx.Response(200, json=other))
    assert await ehr.medications.comment(PATIENT, "ms1", "Hei", idempotency="k" * 64) is None
    assert seen == ["GET /fhir/MedicationStatement/ms1"]
