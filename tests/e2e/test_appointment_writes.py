"""cancelAppointment, requestReschedule and checkIn: rules, bases, idempotency, audit."""

from __future__ import annotations

from typing import Any

from tests.e2e.appointment_support import (
    CANCEL,
    CHECK_IN,
    NODE,
    RESCHEDULE,
    appointment_id,
    clock_at,
    harness_at,
    held_by,
    listing,
    mutate,
    nodes,
    person_id,
)
from tests.e2e.conftest import Harness


def _find(harness: Harness, persona: str, service: str, *, video: bool = False) -> str:
    item = min(
        (
            a
            for a, _ in held_by(harness, persona)
            if a.service == service and a.video == video and a.status == "booked"
        ),
        key=lambda a: a.start,
    )
    return appointment_id(harness, persona, item)


def _puts(harness: Harness) -> int:
    return sum(v for k, v in harness.mocks.ehr.requests.items() if k.startswith("PUT "))


async def _node(harness: Harness, viewer: str, global_id: str) -> dict[str, Any]:
    body = (await harness.query(viewer, NODE, {"id": global_id})).json()
    assert "errors" not in body, body["errors"]
    node: dict[str, Any] = body["data"]["node"]
    return node


async def test_a_cancellation_shows_in_the_next_read_and_happens_once(harness: Harness) -> None:
    target = _find(harness, "kari", "Øyepoliklinikk")
    assert (await _node(harness, "kari", target))["canCancel"] is True
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    fields: dict[str, Any] = {
        "personId": person_id(harness, "kari"),
        "appointmentId": target,
        "reason": "Jeg er bortreist",
        "idempotencyKey": "cancel-eye-0001",
    }
    harness.mocks.reset_counters()
    first = await mutate(harness, "kari", CANCEL, **fields)
    assert first["userErrors"] == []
    assert first["appointment"]["status"] == "CANCELLED"
    again = await mutate(harness, "kari", CANCEL, **fields)
    assert again == first
    assert _puts(harness) == 1
    reused = await mutate(harness, "kari", CANCEL, **{**fields, "reason": "Noe annet"})
    assert [(e["field"], e["code"]) for e in reused["userErrors"]] == [
        (["idempotencyKey"], "KEY_REUSED")
    ]
    after = await _node(harness, "kari", target)
    assert (after["status"], after["canCancel"]) == ("CANCELLED", False)
    writes = [
        r.entry async for r in audit.records() if r.seq > before and r.entry.action == "write"
    ]
    assert len(writes) == 2  # the change and the retry that was answered with it
    assert {(w.categories, w.basis, w.resources) for w in writes} == {
        (("hospital_appointments",), "SELF", writes[0].resources)
    }
    assert len(writes[0].resources) == 1
    assert writes[0].resources[0].startswith("EHR/Appointment/")


async def test_cancellation_rules_are_user_errors_in_the_callers_language(
    harness: Harness,
) -> None:
    kari = person_id(harness, "kari")
    cases = (
        ("Poliklinikk indremedisin", "TOO_LATE", "en", "It is too late for this."),
        ("Legevakt oppfølging", "NOT_CANCELLABLE", "nn", None),
    )
    for n, (service, code, language, message) in enumerate(cases):
        payload = await mutate(
            harness,
            "kari",
            CANCEL,
            headers={"accept-language": language},
            personId=kari,
            appointmentId=_find(harness, "kari", service),
            idempotencyKey=f"cancel-rule-{n:04d}",
        )
        assert payload["appointment"] is None
        [error] = payload["userErrors"]
        assert (error["field"], error["code"]) == (["appointmentId"], code)
        assert error["message"] == message or "kan ikkje" in error["message"]
    bad = await mutate(
        harness,
        "kari",
        CANCEL,
        headers={"accept-language": "en"},
        personId=kari,
        appointmentId=_find(harness, "kari", "Øyepoliklinikk"),
        reason="x" * 501,
        idempotencyKey="short",
    )
    assert {(tuple(e["field"]), e["code"]) for e in bad["userErrors"]} == {
        (("reason",), "TOO_LONG"),
        (("idempotencyKey",), "INVALID"),
    }
    assert _puts(harness) == 0


async def test_check_in_only_in_person_on_the_day_within_the_window() -> None:
    for hour, minute, expected in (
        (11, 0, "NOT_YET"),
        (11, 45, None),
        (12, 44, None),
        (12, 46, "TOO_LATE"),
    ):
        async with harness_at(clock_at(hour, minute)) as harness:
            payload = await mutate(
                harness,
                "kari",
                CHECK_IN,
                personId=person_id(harness, "kari"),
                appointmentId=_find(harness, "kari", "Poliklinikk indremedisin"),
                idempotencyKey="check-in-today",
            )
            codes = [e["code"] for e in payload["userErrors"]]
            if expected is None:
                assert codes == []
                assert payload["appointment"]["status"] == "ARRIVED"
            else:
                assert codes == [expected], (hour, minute)
    async with harness_at() as harness:
        kari = person_id(harness, "kari")
        for key, target, code in (
            ("check-in-video", _find(harness, "kari", "Ortopedisk kontroll", video=True), None),
            ("check-in-later", _find(harness, "kari", "Øyepoliklinikk"), "NOT_YET"),
        ):
            payload = await mutate(
                harness, "kari", CHECK_IN, personId=kari, appointmentId=target, idempotencyKey=key
            )
            assert [e["code"] for e in payload["userErrors"]] == [code or "NOT_CHECKABLE"]
        arrived = await mutate(
            harness,
            "kari",
            CHECK_IN,
            personId=kari,
            appointmentId=_find(harness, "kari", "Poliklinikk indremedisin"),
            idempotencyKey="check-in-noon",
        )
        assert arrived["userErrors"] == []
        node = await _node(harness, "kari", arrived["appointment"]["id"])
        assert (node["status"], node["canCheckIn"], node["canCancel"]) == ("ARRIVED", False, False)


async def test_asking_to_move_shows_until_answered_and_is_asked_once(harness: Harness) -> None:
    target = _find(harness, "kari", "Øyepoliklinikk")
    fields: dict[str, Any] = {
        "personId": person_id(harness, "kari"),
        "appointmentId": target,
        "message": "Kan vi ta det i januar?",
        "idempotencyKey": "move-eye-00001",
    }
    assert (await _node(harness, "kari", target))["rescheduleRequested"] is False
    harness.mocks.reset_counters()
    first = await mutate(harness, "kari", RESCHEDULE, **fields)
    assert first["userErrors"] == []
    assert first["appointment"]["rescheduleRequested"] is True
    assert (await mutate(harness, "kari", RESCHEDULE, **fields))["userErrors"] == []
    posts = sum(v for k, v in harness.mocks.ehr.requests.items() if k.startswith("POST "))
    creates = harness.mocks.ehr.requests.get("POST /ehr/fhir/R4/AppointmentResponse", 0)
    assert creates == 1, harness.mocks.ehr.requests
    assert posts >= creates
    assert (await _node(harness, "kari", target))["rescheduleRequested"] is True
    blank = await mutate(
        harness,
        "kari",
        RESCHEDULE,
        **{**fields, "message": " ", "idempotencyKey": "move-eye-00002"},
    )
    assert [(e["field"], e["code"]) for e in blank["userErrors"]] == [(["message"], "REQUIRED")]


async def _act(harness: Harness, viewer: str, target: str, document: str, **extra: Any) -> Any:
    return await mutate(
        harness,
        viewer,
        document,
        personId=person_id(harness, target),
        idempotencyKey=f"basis-{viewer}-{target}-{len(extra)}",
        **extra,
    )


async def test_who_may_change_appointments_by_basis(harness: Harness) -> None:
    visit = "Poliklinikk indremedisin"
    for viewer, target in (
        ("kari", "emil"),
        ("nils", "berit"),
        ("nils", "solveig"),
        ("kari", "ola"),
    ):
        payload = await _act(
            harness, viewer, target, CHECK_IN, appointmentId=_find(harness, target, visit)
        )
        assert payload["userErrors"] == [], (viewer, target)
        assert payload["appointment"]["status"] == "ARRIVED"
    read_only = await _act(
        harness, "nils", "arne", CHECK_IN, appointmentId=_find(harness, "arne", visit)
    )
    assert [(e["field"], e["code"]) for e in read_only["userErrors"]] == [
        (["personId"], "CATEGORY_UNAVAILABLE")
    ]
    assert (await _node(harness, "arne", _find(harness, "arne", visit)))["status"] == "BOOKED"


async def test_a_parent_of_a_14_year_old_may_change_municipal_ones_only(harness: Harness) -> None:
    municipal = _find(harness, "ida", "Legevakt oppfølging")
    asked = await _act(
        harness, "kari", "ida", RESCHEDULE, appointmentId=municipal, message="Passer dårlig"
    )
    assert asked["userErrors"] == []
    assert asked["appointment"]["kind"] == "MUNICIPAL"
    hospital = _find(harness, "ida", "Røntgen")
    kept = _find(harness, "ida", "Helsestasjon for ungdom")
    for target in (hospital, kept):
        refused = await _act(
            harness, "kari", "ida", RESCHEDULE, appointmentId=target, message="Nei"
        )
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["appointmentId"], "INVALID")
        ]
    # another person's appointment id is no id for this person
    other = await _act(harness, "kari", "emil", CHECK_IN, appointmentId=municipal)
    assert [e["code"] for e in other["userErrors"]] == ["INVALID"]


async def test_appointments_from_a_municipal_api_cannot_be_changed_here(
    harness: Harness,
) -> None:
    found = nodes(await listing(harness, "per", "per"))
    municipal = next(a for a in found if a["source"]["kind"] == "MUNICIPAL")
    assert (municipal["canCancel"], municipal["canCheckIn"]) == (False, False)
    for document, code, extra in (
        (CANCEL, "NOT_CANCELLABLE", {}),
        (RESCHEDULE, "NOT_RESCHEDULABLE", {"message": "Passer ikke"}),
        (CHECK_IN, "NOT_CHECKABLE", {}),
    ):
        payload = await _act(
            harness, "per", "per", document, appointmentId=municipal["id"], **extra
        )
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["appointmentId"], code)
        ]
