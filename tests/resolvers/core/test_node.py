"""Entity ids: which parts an id names, and whether it names something of this person."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from resolvers.core.ids import IdCodec, encode, entity_parts
from resolvers.core.node import entity_of, own_entity
from resolvers.core.recorder import AccessRecorder

CODEC = IdCodec(b"test-secret")
KARI, OLA = "nin-of-kari", "nin-of-ola"  # any text: the key is a keyed hash of it


def info() -> Any:
    """A resolver's `info` as far as ids need it: the codec and a fresh audit recorder."""
    return SimpleNamespace(context=SimpleNamespace(ids=CODEC, recorder=AccessRecorder()))


INFO: Any = info()


def subject(nin: str) -> Any:
    return SimpleNamespace(nin=nin, basis=SimpleNamespace(value="SELF"))


def entity(type_name: str, source: str, nin: str, upstream: str) -> str:
    return encode(type_name, source, f"{CODEC.person_key(nin)}.{upstream}")


def test_an_entity_id_names_type_source_person_and_upstream_id() -> None:
    parts = entity_parts(entity("Slot", "ehr", KARI, "slot-1"))
    assert parts == ("Slot", "ehr", CODEC.person_key(KARI), "slot-1")


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "not base64 !",
        CODEC.person_id(KARI),  # a person, not an entity
        encode("Slot", "ehr", "no-dot"),
        encode("Slot", "ehr", ".slot-1"),  # no person
        encode("Slot", "ehr", f"{CODEC.person_key(KARI)}."),  # no upstream id
    ],
)
def test_anything_else_is_no_entity(global_id: str) -> None:
    assert entity_parts(global_id) is None
    assert entity_of(global_id, "Slot") is None
    assert own_entity(INFO, subject(KARI), global_id, "Slot") is None


def test_entity_of_checks_type_and_source_but_not_the_person() -> None:
    slot = entity("Slot", "ehr", OLA, "slot-1")
    assert entity_of(slot, "Slot") == "slot-1"
    assert entity_of(slot, "Slot", "ehr") == "slot-1"
    assert entity_of(slot, "Slot", "municipal-0301") is None
    assert entity_of(slot, "Appointment") is None


def test_own_entity_takes_only_what_was_read_through_this_person() -> None:
    mine = entity("Appointment", "municipal-0301", KARI, "a-1")
    assert own_entity(INFO, subject(KARI), mine, "Appointment") == ("municipal-0301", "a-1")
    assert own_entity(INFO, subject(OLA), mine, "Appointment") is None
    assert own_entity(INFO, subject(KARI), mine, "Appointment", "ehr") is None
    assert own_entity(INFO, subject(KARI), mine, "Medication") is None


def _refusals(context: Any) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    entries = context.recorder.entries(
        at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
        request_id="req-1",
        actor=KARI,
        actor_kind="citizen",
        client_id=None,
        acr="idporten-loa-high",
        operation="sha256:00",
    )
    return [(e.outcome, e.reason, e.action, e.resources) for e in entries]


@pytest.mark.parametrize(
    ("global_id", "reason", "resources"),
    [
        pytest.param("not base64 !", "MALFORMED_ID", (), id="malformed"),
        pytest.param(CODEC.person_id(KARI), "MALFORMED_ID", (), id="a-person"),
        pytest.param(
            entity("Medication", "ehr", KARI, "m-1"),
            "WRONG_ID_TYPE",
            ("ehr/Medication/m-1",),
            id="another-type",
        ),
        pytest.param(
            entity("Appointment", "municipal-0301", KARI, "a-1"),
            "WRONG_ID_TYPE",
            ("municipal-0301/Appointment/a-1",),
            id="another-source",
        ),
        pytest.param(
            entity("Appointment", "ehr", OLA, "a-1"),
            "ID_OF_ANOTHER_PERSON",
            ("ehr/Appointment/a-1",),
            id="another-person",
        ),
    ],
)
def test_every_id_own_entity_refuses_is_on_the_record_with_its_reason(
    global_id: str, reason: str, resources: tuple[str, ...]
) -> None:
    asked = info()
    assert own_entity(asked, subject(KARI), global_id, "Appointment", "ehr") is None
    assert _refusals(asked.context) == [("denied", reason, "write", resources)]


def test_an_own_id_leaves_no_refusal() -> None:
    asked = info()
    mine = entity("Appointment", "ehr", KARI, "a-1")
    assert own_entity(asked, subject(KARI), mine, "Appointment", "ehr") == ("ehr", "a-1")
    assert _refusals(asked.context) == []
