"""bookableSlots and bookAppointment: free times, booking once, a taken slot, who may book."""

from __future__ import annotations

import datetime as dt
from typing import Any

from resolvers.core.ids import decode, encode
from tests.e2e.appointment_support import BOOK, CANCEL, listing, mutate, nodes, person_id
from tests.e2e.conftest import NOON, Harness

SLOTS = """
query($id: ID!, $filter: BookableSlotFilter, $first: Int = 100) {
  person(id: $id) {
    bookableSlots(filter: $filter, first: $first) {
      totalCount edges { node { id start end service serviceCode practitioner { name }
        location { name } } }
    }
  }
}
"""
TOMORROW = (NOON.date() + dt.timedelta(days=1)).isoformat()
DAY_AFTER = (NOON.date() + dt.timedelta(days=2)).isoformat()


async def slots(harness: Harness, viewer: str, target: str, **filter: Any) -> dict[str, Any]:
    variables = {"id": person_id(harness, target), "filter": filter or None}
    body: dict[str, Any] = (await harness.query(viewer, SLOTS, variables)).json()
    return body


def free(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body["errors"]
    return [e["node"] for e in body["data"]["person"]["bookableSlots"]["edges"]]


async def test_free_times_by_day_and_service(harness: Harness) -> None:
    every = free(await slots(harness, "kari", "kari", **{"from": TOMORROW, "to": TOMORROW}))
    assert every
    assert {s["start"][:10] for s in every} <= {TOMORROW}
    assert all(s["service"] and s["practitioner"]["name"] and s["location"]["name"] for s in every)
    code = every[0]["serviceCode"]
    one = free(
        await slots(harness, "kari", "kari", **{"from": TOMORROW, "to": TOMORROW, "service": code})
    )
    assert one
    assert {s["serviceCode"] for s in one} == {code}
    assert len(one) < len(every)
    default = free(await slots(harness, "kari", "kari"))
    assert default
    assert all(s["start"] >= NOON.isoformat() for s in default)


async def test_booking_once_shows_in_the_next_read_and_takes_the_slot(harness: Harness) -> None:
    window = {"from": DAY_AFTER, "to": DAY_AFTER}
    before = free(await slots(harness, "kari", "kari", **window))
    chosen = before[0]
    fields: dict[str, Any] = {
        "personId": person_id(harness, "kari"),
        "slotId": chosen["id"],
        "reason": "Utslett på armen",
        "idempotencyKey": "book-0000001",
    }
    harness.mocks.reset_counters()
    first = await mutate(harness, "kari", BOOK, **fields)
    assert first["userErrors"] == []
    booked = first["appointment"]
    assert (booked["status"], booked["kind"], booked["start"]) == (
        "BOOKED",
        "HOSPITAL",
        chosen["start"],
    )
    assert await mutate(harness, "kari", BOOK, **fields) == first
    assert harness.mocks.ehr.requests.get("POST /ehr/fhir/R4/Appointment", 0) == 1
    reused = await mutate(harness, "kari", BOOK, **{**fields, "reason": "Noe annet"})
    assert [e["code"] for e in reused["userErrors"]] == ["KEY_REUSED"]
    after = free(await slots(harness, "kari", "kari", **window))
    assert chosen["start"] not in {s["start"] for s in after if s["service"] == chosen["service"]}
    assert len(after) == len(before) - 1
    listed = nodes(await listing(harness, "kari", "kari"))
    assert booked["id"] in {a["id"] for a in listed}
    # someone else who saw the same time a moment ago finds it taken
    taken = await mutate(
        harness,
        "per",
        BOOK,
        headers={"accept-language": "en"},
        personId=person_id(harness, "per"),
        slotId=_same_slot_for(harness, "per", chosen),
        idempotencyKey="book-per-000001",
    )
    assert [(e["field"], e["code"], e["message"]) for e in taken["userErrors"]] == [
        (["slotId"], "SLOT_TAKEN", "This time is no longer free. Please choose another.")
    ]
    # cancelling the booking frees the time again
    cancelled = await mutate(
        harness,
        "kari",
        CANCEL,
        personId=person_id(harness, "kari"),
        appointmentId=booked["id"],
        idempotencyKey="cancel-booking-1",
    )
    assert cancelled["userErrors"] == []
    again = free(await slots(harness, "kari", "kari", **window))
    assert len(again) == len(before)


def _same_slot_for(harness: Harness, persona: str, slot: dict[str, Any]) -> str:
    """The id `persona` would have used for the same time (ids are per person): built
    from the slot's upstream id, as a client holding an older list would have it."""
    _, source, key = decode(slot["id"])
    upstream = key.partition(".")[2]
    nin = harness.mocks.population.persona(persona).nin
    return encode("Slot", source, f"{harness.app_services.ids.person_key(nin)}.{upstream}")


async def test_only_those_who_may_book_see_free_times(harness: Harness) -> None:
    for viewer, target in (("nils", "arne"), ("kari", "ida")):
        body = await slots(harness, viewer, target)
        assert body["data"]["person"]["bookableSlots"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["CATEGORY_UNAVAILABLE"]
    assert free(await slots(harness, "nils", "berit"))  # a standard proxy may book
    some = free(await slots(harness, "kari", "kari"))[0]
    refused = await mutate(
        harness,
        "nils",
        BOOK,
        personId=person_id(harness, "arne"),
        slotId=some["id"],
        idempotencyKey="book-arne-0001",
    )
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["personId"], "CATEGORY_UNAVAILABLE")
    ]
    foreign = await mutate(
        harness,
        "kari",
        BOOK,
        personId=person_id(harness, "emil"),
        slotId=some["id"],  # kari's id for the slot is no id for emil
        idempotencyKey="book-emil-0001",
    )
    assert [(e["field"], e["code"]) for e in foreign["userErrors"]] == [(["slotId"], "INVALID")]


async def test_a_free_time_is_a_node_for_those_who_may_book(harness: Harness) -> None:
    some = free(await slots(harness, "kari", "kari"))[0]
    query = "query($id: ID!) { node(id: $id) { ... on BookableSlot { id start service } } }"
    body = (await harness.query("kari", query, {"id": some["id"]})).json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["node"] == {k: some[k] for k in ("id", "start", "service")}
    stranger = (await harness.query("per", query, {"id": some["id"]})).json()
    assert stranger["data"]["node"] is None
    assert [e["extensions"]["code"] for e in stranger["errors"]] == ["FORBIDDEN"]
