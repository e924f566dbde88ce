"""Every example operation in operations/ runs against the mocks without an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.persisted import OPERATIONS_DIR
from tests.e2e.conftest import Harness

FILES = sorted(p.name for p in Path(OPERATIONS_DIR).glob("*.graphql"))


def variables_for(name: str, person_id: str) -> dict[str, Any]:
    if name == "send_message.graphql":
        return {
            "input": {
                "personId": person_id,
                "subject": "Spørsmål",
                "text": "Hei!",
                "idempotencyKey": "operations-test-1",
            }
        }
    if name in MUTATION_INPUTS:
        return {"input": {"personId": person_id, **MUTATION_INPUTS[name]}}
    return {} if name == "home.graphql" else {"id": person_id}


MUTATION_INPUTS: dict[str, dict[str, Any]] = {
    "add_medication.graphql": {"name": "Vitamin D", "idempotencyKey": "operations-test-2"},
    # an id of no medicine: the operation answers with a user error, not a GraphQL error
    "comment_on_medication.graphql": {
        "medicationId": "none",
        "text": "Tar den om kvelden.",
        "idempotencyKey": "operations-test-3",
    },
    "request_journal_access.graphql": {"kind": "COPY", "idempotencyKey": "operations-test-4"},
    # an id of no message: a user error naming messageIds
    "mark_messages_read.graphql": {"messageIds": ["none"], "idempotencyKey": "operations-test-5"},
    "create_private_note.graphql": {"text": "Spør om prøvesvar", "idempotencyKey": "ops-note-1"},
    # an id of no note: a user error naming id
    "update_private_note.graphql": {
        "id": "none",
        "expectedVersion": 1,
        "text": "Ny tekst",
        "idempotencyKey": "ops-note-2",
    },
    "delete_private_note.graphql": {
        "id": "none",
        "expectedVersion": 1,
        "idempotencyKey": "ops-note-3",
    },
    "update_notification_settings.graphql": {
        "reminderMinutesBefore": 120,
        "idempotencyKey": "ops-settings-1",
    },
    "apply_for_municipal_service.graphql": {
        "service": "SAFETY_ALARM",
        "description": "Har falt to ganger i høst.",
        "idempotencyKey": "ops-apply-1",
    },
}


@pytest.mark.parametrize("name", FILES)
async def test_operation_runs_for_kari(harness: Harness, name: str) -> None:
    kari = harness.app_services.ids.person_id(harness.mocks.population.persona("kari").nin)
    document = (OPERATIONS_DIR / name).read_text(encoding="utf-8")
    body = (await harness.query("kari", document, variables_for(name, kari))).json()
    assert "errors" not in body, body.get("errors")
    assert body["data"]


async def test_past_appointments_operation(harness: Harness) -> None:
    kari = harness.app_services.ids.person_id(harness.mocks.population.persona("kari").nin)
    document = (OPERATIONS_DIR / "appointments.graphql").read_text(encoding="utf-8")
    body = (await harness.query("kari", document, {"id": kari, "period": "PAST"})).json()
    edges = body["data"]["person"]["appointments"]["edges"]
    starts = [e["node"]["start"] for e in edges]
    assert starts
    assert starts == sorted(starts, reverse=True)


def test_every_screen_has_an_operation() -> None:
    screens = {
        "home",
        "inbox",
        "results",
        "medicines",
        "appointments",
        "child_overview",
        "municipal_services",
        "access_log",
        "documents",
        "referrals",
        "care_team",
        "journal_requests",
        "private_notes",
        "settings",
        "thread",
        "timeline",
        "questionnaires",
        "pregnancy",
        "follow_up",
        "book_appointment",
    }
    assert screens <= {Path(f).stem for f in FILES}
