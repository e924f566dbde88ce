"""Every refused attempt to reach a person or an item is on the record, with its reason,
while the caller's answer stays the same whatever the reason: an enumeration leaves a
trail, and the trail tells an auditor what the caller was never told."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import pytest

from authz.audit import NO_SUBJECT, AuditEntry, key_subject
from resolvers.core.ids import encode
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

PERSON = "query($id: ID!) { person(id: $id) { name } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
MARK_READ = """
mutation($input: MarkMessagesReadInput!) {
  markMessagesRead(input: $input) { userErrors { field code } }
}
"""
APPOINTMENTS = """
query($id: ID!) { person(id: $id) { appointments(first: 100) { edges { node { id service } } } } }
"""
CANCEL = """
mutation($input: CancelAppointmentInput!) {
  cancelAppointment(input: $input) { appointment { id } userErrors { field code } }
}
"""


def nin(harness: Harness, persona: str) -> str:
    return harness.mocks.population.persona(persona).nin


def key(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_key(nin(harness, persona))


async def head(harness: Harness) -> int:
    return (await harness.app_services.audit.head())[0]


async def denied_since(harness: Harness, seq: int) -> list[AuditEntry]:
    return [
        r.entry
        async for r in harness.app_services.audit.records()
        if r.seq > seq and r.entry.outcome == "denied"
    ]


def without_request_id(response: httpx.Response) -> Any:
    """The answer as a caller compares it (request ids differ by design)."""
    body: Any = response.json()
    for error in body.get("errors", []):
        error.get("extensions", {}).pop("requestId", None)
    return response.status_code, body


def random_key() -> str:
    """A person key no one has."""
    return base64.urlsafe_b64encode(secrets.token_bytes(15)).decode()


async def test_an_enumeration_of_person_ids_leaves_one_record_per_attempt(
    harness: Harness,
) -> None:
    strangers = ["per", "anna", "nils", "mona", "frode"]
    before = await head(harness)
    answers, calls = [], []
    for stranger in strangers:
        harness.mocks.reset_counters()
        response = await harness.query("kari", PERSON, {"id": await person_id(harness, stranger)})
        answers.append(without_request_id(response))
        calls.append(harness.mocks.counts())
    harness.mocks.reset_counters()
    nobody = await harness.query("kari", PERSON, {"id": encode("Person", "gw", random_key())})
    # the same upstream work for each, warm caches or not: nothing a timing could tell apart
    assert all(c == harness.mocks.counts() for c in calls[1:])
    # a stranger and no one at all get exactly the same answer
    assert all(answer == without_request_id(nobody) for answer in answers)
    assert without_request_id(nobody)[1]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await denied_since(harness, before)
    assert len(denied) == len(strangers) + 1
    assert [(e.subject, e.reason, e.basis) for e in denied[:-1]] == [
        (key_subject(key(harness, s)), "NO_RELATION", "NONE") for s in strangers
    ]
    assert denied[-1].reason == "NO_RELATION"
    kari = nin(harness, "kari")
    for entry in denied:
        assert entry.actor == kari
        assert entry.action == "read"
        assert entry.acr == "idporten-loa-high"
        assert entry.operation is not None
        assert entry.operation.startswith("sha256:")
        # a stranger is recorded by the key the id carried, never by a national id
        assert entry.subject.startswith("key:")


@pytest.mark.parametrize(
    ("viewer", "target", "reason", "by_national_id"),
    [
        pytest.param("nils", "gunnar", "MANDATE_EXPIRED", True, id="expired-power-of-attorney"),
        pytest.param("kari", "jonas", "PARENTAL_ACCESS_ENDED", True, id="child-turned-16"),
        pytest.param("frode", "emil", "NO_RELATION", False, id="father-without-responsibility"),
        pytest.param("kari", "mona", "NO_RELATION", False, id="stranger"),
    ],
)
async def test_a_refused_person_is_recorded_with_the_reason_the_registry_supports(
    harness: Harness, viewer: str, target: str, reason: str, by_national_id: bool
) -> None:
    before = await head(harness)
    response = await harness.query(viewer, PERSON, {"id": await person_id(harness, target)})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert response.json()["errors"][0]["message"] == (
        "You do not have access to this person or item."
    )
    [entry] = await denied_since(harness, before)
    assert entry.reason == reason
    expected = nin(harness, target) if by_national_id else key_subject(key(harness, target))
    assert entry.subject == expected
    assert entry.basis == "NONE"


async def test_a_mutation_for_someone_out_of_reach_is_recorded_as_a_write(
    harness: Harness,
) -> None:
    before = await head(harness)
    response = await harness.query(
        "nils",
        MARK_READ,
        {
            "input": {
                "personId": await person_id(harness, "gunnar"),
                "messageIds": [encode("Message", "ehr", f"{key(harness, 'gunnar')}.m-1")],
                "idempotencyKey": "refused-0001",
            }
        },
    )
    errors = response.json()["data"]["markMessagesRead"]["userErrors"]
    assert {"field": ["personId"], "code": "FORBIDDEN"} in errors
    [entry] = await denied_since(harness, before)
    assert (entry.reason, entry.action, entry.subject) == (
        "MANDATE_EXPIRED",
        "write",
        nin(harness, "gunnar"),
    )


async def test_forged_and_retyped_item_ids_are_recorded_with_their_reason(
    harness: Harness,
) -> None:
    kari, emil = key(harness, "kari"), key(harness, "emil")
    attempts = [
        ("not an id at all", "MALFORMED_ID", NO_SUBJECT),
        (encode("Appointment", "ehr", "no-dot"), "MALFORMED_ID", NO_SUBJECT),
        (encode("Nothing", "ehr", f"{kari}.x"), "MALFORMED_ID", key_subject(kari)),
        (encode("Appointment", "ehr", f"{random_key()}.a-1"), "NO_RELATION", None),
        (encode("LabResult", "ehr", f"{emil}.does-not-exist"), "ITEM_UNAVAILABLE", None),
    ]
    before = await head(harness)
    for global_id, _, _ in attempts:
        body = (await harness.query("kari", NODE, {"id": global_id})).json()
        assert body["data"]["node"] is None
    denied = await denied_since(harness, before)
    assert [e.reason for e in denied] == [reason for _, reason, _ in attempts]
    for entry, (_, _, subject) in zip(denied[:3], attempts[:3], strict=True):
        assert entry.subject == subject
    assert denied[3].subject.startswith("key:")
    assert denied[4].subject == nin(harness, "emil")
    assert denied[4].basis == "PARENT"
    assert denied[4].resources == ("ehr/LabResult/does-not-exist",)


async def test_a_hidden_item_and_an_absent_one_answer_alike_and_are_both_recorded(
    harness: Harness,
) -> None:
    """Ida keeps a visit from her guardians: its id, sent by her mother, is refused like
    an id of nothing, and both attempts are on the record with one reason."""
    ida = await person_id(harness, "ida")
    own = (await harness.query("ida", APPOINTMENTS, {"id": ida})).json()
    kept = next(
        e["node"]["id"]
        for e in own["data"]["person"]["appointments"]["edges"]
        if e["node"]["service"] == "Helsestasjon for ungdom"
    )
    made_up = encode("Appointment", "ehr", f"{key(harness, 'ida')}.made-up-1")
    await harness.query("kari", NODE, {"id": kept})  # the caches warm alike for both
    before = await head(harness)
    harness.mocks.reset_counters()
    hidden = await harness.query("kari", NODE, {"id": kept})
    hidden_calls = harness.mocks.counts()
    harness.mocks.reset_counters()
    absent = await harness.query("kari", NODE, {"id": made_up})
    assert harness.mocks.counts() == hidden_calls  # no upstream work a timing could show
    assert without_request_id(hidden) == without_request_id(absent)
    assert hidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await denied_since(harness, before)
    assert [(e.reason, e.subject, e.basis, e.action) for e in denied] == [
        ("ITEM_UNAVAILABLE", nin(harness, "ida"), "PARENT", "read"),
    ] * 2


async def test_a_mutation_on_another_persons_item_is_recorded(harness: Harness) -> None:
    """Kari cancelling one of Ola's appointments under her own person id."""
    ola = await person_id(harness, "ola")
    listed = (await harness.query("kari", APPOINTMENTS, {"id": ola})).json()
    appointment = listed["data"]["person"]["appointments"]["edges"][0]["node"]["id"]
    before = await head(harness)
    response = await harness.query(
        "kari",
        CANCEL,
        {
            "input": {
                "personId": await person_id(harness, "kari"),
                "appointmentId": appointment,
                "idempotencyKey": "refused-0002",
            }
        },
    )
    payload = response.json()["data"]["cancelAppointment"]
    assert payload["appointment"] is None
    assert {"field": ["appointmentId"], "code": "INVALID"} in payload["userErrors"]
    [entry] = await denied_since(harness, before)
    assert (entry.reason, entry.subject, entry.action) == (
        "ID_OF_ANOTHER_PERSON",
        nin(harness, "kari"),
        "write",
    )


async def test_refused_downloads_answer_404_and_are_recorded(harness: Harness) -> None:
    token = harness.token("kari")
    emil = key(harness, "emil")
    attempts = [
        ("%20garbage", "MALFORMED_ID"),
        (encode("LabResult", "ehr", f"{emil}.x"), "WRONG_ID_TYPE"),
        (encode("Document", "ehr", f"{key(harness, 'per')}.d-1"), "NO_RELATION"),
        (encode("Document", "ehr", f"{emil}.no-such-document"), "ITEM_UNAVAILABLE"),
    ]
    before = await head(harness)
    answers = []
    for global_id, _ in attempts:
        response = await harness.client.get(
            f"/documents/{global_id}", headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404
        answers.append(response.json())
    assert all(answer == answers[0] for answer in answers)
    denied = await denied_since(harness, before)
    assert [e.reason for e in denied] == [reason for _, reason in attempts]
    assert {e.operation for e in denied} == {"GET /documents/{id}"}
    assert {e.acr for e in denied} == {"idporten-loa-high"}


@pytest.mark.parametrize(
    ("persona", "claims"),
    [
        pytest.param("anna", {"scope": "openid helsegraf:analytics"}, id="an-analyst"),
        pytest.param("thea", {}, id="a-13-year-old-without-youth-consent"),
    ],
)
async def test_a_viewer_without_a_basis_of_their_own_is_recorded(
    harness: Harness, persona: str, claims: dict[str, Any]
) -> None:
    seq = await head(harness)
    response = await harness.query(persona, "{ viewer { person { name } } }", **claims)
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [entry] = await denied_since(harness, seq)
    assert (entry.subject, entry.reason) == (nin(harness, persona), "NO_ACCESS_BASIS")


async def test_the_text_of_a_forged_id_never_reaches_the_record(harness: Harness) -> None:
    """An id is base64 of text the caller may choose: a made-up "person key" or item id
    holding someone's national id is refused like any other, and recorded as what it is
    (an id the gateway never wrote), without the caller's text."""
    nin_ = nin(harness, "ola")
    forged = [
        (PERSON, encode("Person", "gw", nin_)),
        (PERSON, encode("Person", "gw", f"{nin_}-padded-to-twenty"[:20])),
        (NODE, encode("Slot", "ehr", f"{nin_}.slot-1")),
        (NODE, encode("LabResult", "ehr", f"{random_key()}.{nin_}")),
    ]
    before = await head(harness)
    for document, global_id in forged:
        body = (await harness.query("kari", document, {"id": global_id})).json()
        assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "BAD_USER_INPUT")
    response = await harness.client.get(
        f"/documents/{encode('Document', 'ehr', f'{nin_}.doc-1')}",
        headers={"authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 404
    denied = await denied_since(harness, before)
    assert len(denied) == len(forged) + 1
    for entry in denied:
        assert nin_ not in entry.subject
        assert all(nin_ not in resource for resource in entry.resources)


async def test_changing_a_note_that_is_gone_is_recorded(harness: Harness) -> None:
    """A well-formed id of one's own note that no longer exists is a refused attempt on an
    item like any other: on the record, whether the change was an update or a delete."""
    kari = await person_id(harness, "kari")
    created = await harness.query(
        "kari",
        "mutation($input: CreatePrivateNoteInput!) "
        "{ createPrivateNote(input: $input) { note { id } userErrors { code } } }",
        {"input": {"personId": kari, "idempotencyKey": "gone-note-01", "text": "Husk"}},
    )
    note = created.json()["data"]["createPrivateNote"]["note"]["id"]
    fields = {"personId": kari, "id": note, "expectedVersion": 1}
    delete = (
        "mutation($input: DeletePrivateNoteInput!) "
        "{ deletePrivateNote(input: $input) { deletedId userErrors { code } } }"
    )
    update = (
        "mutation($input: UpdatePrivateNoteInput!) "
        "{ updatePrivateNote(input: $input) { note { id } userErrors { code } } }"
    )
    await harness.query("kari", delete, {"input": fields | {"idempotencyKey": "gone-note-02"}})
    before = await head(harness)
    for document, extra in ((update, {"text": "Ny"}), (delete, {})):
        key = {"idempotencyKey": f"gone-note-0{len(extra) + 3}"}
        answer = await harness.query("kari", document, {"input": fields | key | extra})
        (payload,) = answer.json()["data"].values()
        assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    denied = await denied_since(harness, before)
    assert [(e.reason, e.action) for e in denied] == [("ITEM_UNAVAILABLE", "write")] * 2
