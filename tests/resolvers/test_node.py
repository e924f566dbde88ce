"""Entity ids: which parts an id names, and whether it names something of this person."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.ids import IdCodec, encode
from resolvers.node import entity_of, entity_parts, own_entity

CODEC = IdCodec(b"test-secret")
KARI, OLA = "nin-of-kari", "nin-of-ola"  # any text: the key is a keyed hash of it
INFO: Any = SimpleNamespace(context=SimpleNamespace(ids=CODEC))


def subject(nin: str) -> Any:
    return SimpleNamespace(nin=nin)


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
