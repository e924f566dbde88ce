"""Appointment parsing (extensions, links, durations) and writes against a fake EHR."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from resolvers.appointments.appointment_rules import cancel_problem, category_of, check_in_problem
from resolvers.appointments.video import VideoState, video_state
from sources.ehr_appointments import held
from sources.errors import UpstreamConflict
from sources.fhir_appointments import appointment, duration, public_link
from tests.sources.test_ehr import client

EXT = "https://fhir.helsegraf.dev/StructureDefinition/"
START = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)


def resource(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": "e1-ap1",
        "meta": {"versionId": "3"},
        "status": "booked",
        "start": START.isoformat(),
        "end": (START + dt.timedelta(minutes=30)).isoformat(),
        "participant": [{"actor": {"reference": "Patient/e1"}, "status": "accepted"}],
        **extra,
    }


def video(*extensions: dict[str, Any]) -> dict[str, Any]:
    return resource(
        appointmentType={"coding": [{"code": "VR"}]},
        extension=[
            {"url": EXT + "video-join-url", "valueUrl": "https://video.example.no/r/1"},
            *extensions,
        ],
    )


def minutes(n: int) -> dict[str, Any]:
    return {"value": n, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min"}


def test_extensions_become_facts() -> None:
    parsed = appointment(
        video(
            {"url": EXT + "video-opens-before", "valueDuration": minutes(10)},
            {"url": EXT + "video-session-status", "valueCode": "waiting-room"},
            {"url": EXT + "patient-cancellable", "valueBoolean": True},
            {"url": EXT + "cancel-deadline", "valueDuration": {"value": 2, "code": "h"}},
            {"url": EXT + "responsible-municipality", "valueCode": "5001"},
        )
    )
    assert parsed.video_url == "https://video.example.no/r/1"
    assert parsed.video_opens_before == dt.timedelta(minutes=10)
    assert parsed.cancel_deadline == dt.timedelta(hours=2)
    assert parsed.cancellable is True
    assert parsed.municipality == "5001"
    assert category_of(parsed) == "municipal_appointments"
    assert video_state(parsed, START - dt.timedelta(hours=1)) is VideoState.WAITING_ROOM
    plain = appointment(resource())
    assert (plain.video_url, plain.cancellable, plain.municipality) == (None, False, None)
    assert category_of(plain) == "hospital_appointments"


@pytest.mark.parametrize(
    "link",
    [
        "http://video.example.no/r/1",
        "https://user:pw@video.example.no/r/1",
        "https://video.example.no:8443/r/1",
        "https://10.0.0.7/r/1",
        "https://internal/r/1",
        "javascript:alert(1)",
        "https://" + "a" * 600 + ".no",
    ],
)
def test_only_plain_public_https_links_are_handed_out(link: str) -> None:
    assert public_link(link) is None
    assert (
        appointment(
            video() | {"extension": [{"url": EXT + "video-join-url", "valueUrl": link}]}
        ).video_url
        is None
    )


def test_durations() -> None:
    assert duration(minutes(15)) == dt.timedelta(minutes=15)
    assert duration({"value": 1, "code": "d"}) == dt.timedelta(days=1)
    for odd in (
        {"value": -1, "code": "min"},
        {"value": 5, "code": "wk"},
        {"value": True, "code": "h"},
        "15",
    ):
        assert duration(odd) is None


def test_the_video_state_follows_the_clock_and_the_video_service() -> None:
    record = appointment(video())
    assert video_state(record, START - dt.timedelta(minutes=16)) is VideoState.NOT_OPEN
    assert video_state(record, START - dt.timedelta(minutes=14)) is VideoState.OPEN
    assert video_state(record, START + dt.timedelta(minutes=31)) is VideoState.ENDED
    session = {"url": EXT + "video-session-status", "valueCode": "in-progress"}
    assert video_state(appointment(video(session)), START) is VideoState.IN_PROGRESS
    cancelled = appointment(video() | {"status": "cancelled"})
    assert video_state(cancelled, START) is VideoState.ENDED


def test_rules_use_the_ehr_windows_before_the_defaults() -> None:
    record = appointment(
        resource(
            extension=[
                {"url": EXT + "patient-cancellable", "valueBoolean": True},
                {"url": EXT + "check-in-opens", "valueDuration": minutes(30)},
                {"url": EXT + "check-in-closes", "valueDuration": minutes(5)},
            ]
        )
    )
    day_before = START - dt.timedelta(hours=25)
    assert cancel_problem(record, day_before) is None
    assert cancel_problem(record, START - dt.timedelta(hours=23)) == "TOO_LATE"
    assert check_in_problem(record, START - dt.timedelta(minutes=31)) == "NOT_YET"
    assert check_in_problem(record, START - dt.timedelta(minutes=29)) is None
    assert check_in_problem(record, START + dt.timedelta(minutes=6)) == "TOO_LATE"
    assert check_in_problem(appointment(video()), START) == "NOT_CHECKABLE"


async def test_a_status_change_is_a_versioned_put_and_a_412_is_a_conflict() -> None:
    answers = [412, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.method == "PUT"
        assert request.url.path == "/fhir/Appointment/e1-ap1"
        assert request.headers["if-match"] == 'W/"3"'
        assert (body["status"], body["cancelationReason"]) == ("cancelled", {"text": "Syk"})
        status = answers.pop(0)
        if status != 200:
            return httpx.Response(status, json={"resourceType": "OperationOutcome", "issue": []})
        return httpx.Response(200, json={**body, "meta": {"versionId": "4"}})

    ehr, seen = client(handler)
    with pytest.raises(UpstreamConflict):
        await ehr.appointments.set_status(held(resource()), "e1", "cancelled", "Syk")
    changed = await ehr.appointments.set_status(held(resource()), "e1", "cancelled", "Syk")
    assert changed.status == "cancelled"
    assert len(seen) == 2


async def test_booking_is_a_conditional_create_naming_the_slot() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.method == "POST"
        assert request.url.path == "/fhir/Appointment"
        assert request.headers["if-none-exist"].endswith("|scoped-key")
        assert body["slot"] == [{"reference": "Slot/sl-1"}]
        if "reasonCode" in body:
            return httpx.Response(409, json={"resourceType": "OperationOutcome", "issue": []})
        return httpx.Response(201, json=resource(slot=body["slot"]))

    ehr, _ = client(handler)
    booked = await ehr.appointments.book("e1", "sl-1", None, idempotency="scoped-key")
    assert booked.id == "e1-ap1"
    with pytest.raises(UpstreamConflict):
        await ehr.appointments.book("e1", "sl-1", "Vondt", idempotency="scoped-key")
