"""Appointments read: node ids, filters, video rooms by basis, and municipal routing."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.appointment_support import (
    LIST,
    NODE,
    appointment_id,
    clock_at,
    harness_at,
    held_by,
    listing,
    nodes,
    person_id,
    today_at,
)
from tests.e2e.conftest import NOON, Harness

OPERATION = (OPERATIONS_DIR / "appointments.graphql").read_text(encoding="utf-8")


def _upcoming_municipal(harness: Harness, persona: str) -> list[Any]:
    return [
        a
        for a, municipality in held_by(harness, persona)
        if municipality is not None and a.start >= NOON
    ]


async def test_an_appointment_is_a_node_fetched_under_the_same_rules(harness: Harness) -> None:
    listed = nodes(await listing(harness, "kari", "kari"))
    assert len({a["id"] for a in listed}) == len(listed)
    for item in listed[:3]:
        body = (await harness.query("kari", NODE, {"id": item["id"]})).json()
        assert "errors" not in body, body
        assert body["data"]["node"] == item
    # someone out of reach: the same FORBIDDEN as an id of nothing
    other = (await harness.query("per", NODE, {"id": listed[0]["id"]})).json()
    assert other["data"]["node"] is None
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]


async def test_a_hidden_appointment_is_no_node_for_the_parent(harness: Harness) -> None:
    kept = next(a for a, _ in held_by(harness, "ida") if a.service == "Helsestasjon for ungdom")
    global_id = appointment_id(harness, "ida", kept)
    as_ida = (await harness.query("ida", NODE, {"id": global_id})).json()
    assert as_ida["data"]["node"]["service"] == "Helsestasjon for ungdom"
    as_parent = (await harness.query("kari", NODE, {"id": global_id})).json()
    missing = (await harness.query("kari", NODE, {"id": global_id[:-2] + "xx"})).json()
    assert as_parent["data"]["node"] is None
    assert [e["extensions"] for e in as_parent["errors"]] == [
        e["extensions"] for e in missing["errors"]
    ]


async def test_filter_by_days_and_kind(harness: Harness) -> None:
    today = NOON.date().isoformat()
    on_the_day = nodes(await listing(harness, "kari", "kari", {"from": today, "to": today}))
    assert sorted(a["service"] for a in on_the_day) == [
        "Ortopedisk kontroll",
        "Poliklinikk indremedisin",
    ]
    municipal = await listing(harness, "kari", "kari", {"kinds": ["MUNICIPAL"]})
    found = nodes(municipal)
    assert found
    assert {a["kind"] for a in found} == {"MUNICIPAL"}
    assert municipal["data"]["person"]["appointments"]["totalCount"] == len(
        _upcoming_municipal(harness, "kari")
    )
    backwards = await listing(harness, "kari", "kari", {"from": today, "to": "2020-01-01"})
    assert backwards["data"]["person"]["appointments"] is None
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _video(items: list[dict[str, Any]]) -> dict[str, Any]:
    video = next(
        a for a in items if a["isVideo"] and a["start"].startswith(NOON.date().isoformat())
    )
    assert all(a["video"] is None for a in items if not a["isVideo"])
    result: dict[str, Any] = video["video"]
    return result


async def test_the_video_room_opens_shortly_before_and_ends_after(harness: Harness) -> None:
    open_now = _video(nodes(await listing(harness, "kari", "kari")))
    assert open_now["state"] == "OPEN"
    assert open_now["canJoin"] is True
    assert open_now["joinUrl"].startswith("https://video.helsegraf.dev/join/")
    assert open_now["opensAt"] == today_at(11, 55).isoformat()
    for hour, period, state, text in (
        (11, "UPCOMING", "NOT_OPEN", "Not open yet"),
        (13, "PAST", "ENDED", "Ended"),
    ):
        async with harness_at(clock_at(hour)) as other:
            variables = {"id": person_id(other, "kari"), "filter": {"period": period}}
            response = await other.query("kari", LIST, variables, headers={"accept-language": "en"})
            video = _video(nodes(response.json()))
            assert (video["state"], video["stateText"], video["canJoin"]) == (state, text, False)
            assert video["joinUrl"] == open_now["joinUrl"]  # known, just not joinable


async def test_only_those_who_may_attend_get_the_join_link(harness: Harness) -> None:
    for viewer, target, may_join in (
        ("kari", "emil", True),  # parent of a child under 12
        ("kari", "ola", True),  # full power of attorney
        ("nils", "berit", True),  # standard power of attorney
        ("nils", "solveig", True),  # communicate-only: manages appointments
        ("nils", "arne", False),  # read-only power of attorney
    ):
        video = _video(nodes(await listing(harness, viewer, target)))
        # ola joined early: the video service reports him in the waiting room
        assert video["state"] == ("WAITING_ROOM" if target == "ola" else "OPEN"), target
        assert (video["joinUrl"] is not None, video["canJoin"]) == (may_join, may_join), target


async def _as_partner(harness: Harness, scopes: str) -> dict[str, Any]:
    token = harness.token("kari", act={"client_id": "partner-portal-x"}, scope=scopes)
    response = await harness.client.post(
        "/graphql",
        json={
            "documentId": f"sha256:{document_hash(OPERATION)}",
            "variables": {"id": person_id(harness, "kari")},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body


async def test_a_partner_gets_the_link_only_with_the_write_scope(harness: Harness) -> None:
    read = "helsegraf:hospital_appointments.read helsegraf:municipal_appointments.read"
    without = _video(nodes(await _as_partner(harness, read)))
    assert (without["joinUrl"], without["canJoin"], without["state"]) == (None, False, "OPEN")
    with_write = _video(
        nodes(await _as_partner(harness, read + " helsegraf:hospital_appointments.write"))
    )
    assert with_write["joinUrl"]
    assert with_write["canJoin"]
    assert {a["canCancel"] for a in nodes(await _as_partner(harness, read))} == {False}


async def test_a_shared_ehr_municipality_is_read_from_the_ehr_only(harness: Harness) -> None:
    harness.mocks.reset_counters()
    found = nodes(await listing(harness, "kari", "kari"))
    counts = harness.mocks.counts()
    assert counts["MUNICIPAL 5001"] == 0
    municipal = [a for a in found if a["kind"] == "MUNICIPAL"]
    assert municipal
    assert {a["source"]["kind"] for a in municipal} == {"EHR"}
    assert len(municipal) == len(_upcoming_municipal(harness, "kari"))


async def test_an_api_municipality_is_read_from_its_api(harness: Harness) -> None:
    harness.mocks.reset_counters()
    found = nodes(await listing(harness, "per", "per"))
    assert harness.mocks.counts()["MUNICIPAL 0301"] == 1
    municipal = [a for a in found if a["kind"] == "MUNICIPAL"]
    assert municipal
    assert {(a["source"]["kind"], a["source"]["municipality"]) for a in municipal} == {
        ("MUNICIPAL", "0301")
    }
    assert all(a["kind"] == "HOSPITAL" for a in found if a["source"]["kind"] == "EHR")


async def test_a_parent_of_a_13_year_old_sees_municipal_ones_from_the_shared_ehr(
    harness: Harness,
) -> None:
    harness.mocks.reset_counters()
    body = await listing(harness, "nils", "thea")
    assert "errors" not in body, body["errors"]
    found = nodes(body)
    assert harness.mocks.counts()["MUNICIPAL 5001"] == 0
    assert found
    assert {(a["kind"], a["source"]["kind"]) for a in found} == {("MUNICIPAL", "EHR")}
    assert len(found) == len(_upcoming_municipal(harness, "thea"))
    assert not [a for a in found if a["isVideo"]]  # thea's hospital video is not for a parent


async def test_not_on_the_shared_ehr_by_setting_nothing_is_shown_twice() -> None:
    async with harness_at(shared_ehr_municipalities=[]) as api_only:
        api_only.mocks.reset_counters()
        found = nodes(await listing(api_only, "kari", "kari"))
        assert api_only.mocks.counts()["MUNICIPAL 5001"] == 1
        municipal = [a for a in found if a["kind"] == "MUNICIPAL"]
        assert {a["source"]["kind"] for a in municipal} == {"MUNICIPAL"}
        assert len(municipal) == len(_upcoming_municipal(api_only, "kari"))
        assert len({(a["start"], a["service"]) for a in found}) == len(found)
