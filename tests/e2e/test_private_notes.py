"""Private notes end to end: who may read and write them, versions, idempotency, audit."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR
from resolvers.core.i18n import text
from resolvers.core.ids import encode
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

LIST = (OPERATIONS_DIR / "private_notes.graphql").read_text(encoding="utf-8")
CREATE = (OPERATIONS_DIR / "create_private_note.graphql").read_text(encoding="utf-8")
UPDATE = (OPERATIONS_DIR / "update_private_note.graphql").read_text(encoding="utf-8")
DELETE = (OPERATIONS_DIR / "delete_private_note.graphql").read_text(encoding="utf-8")
NODE = """query($id: ID!) { node(id: $id) { id ... on PrivateNote { text writtenBy } } }"""
PARTNER = {"act": {"client_id": "partner-portal-x"}}


async def mutate(
    harness: Harness, viewer: str, document: str, fields: dict[str, Any], **claims: Any
) -> dict[str, Any]:
    body: dict[str, Any] = (
        await harness.query(viewer, document, {"input": fields}, **claims)
    ).json()
    assert "errors" not in body, body["errors"]
    (payload,) = body["data"].values()
    assert isinstance(payload, dict)
    return payload


async def create(
    harness: Harness, viewer: str, target: str, key: str, **fields: Any
) -> dict[str, Any]:
    values = {"personId": await person_id(harness, target), "idempotencyKey": key}
    return await mutate(harness, viewer, CREATE, values | {"text": "Husk å spørre"} | fields)


async def listed(harness: Harness, viewer: str, target: str, **claims: Any) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target)}
    body: dict[str, Any] = (await harness.query(viewer, LIST, variables, **claims)).json()
    return body


def notes_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["privateNotes"]["edges"]]


def refusal(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["extensions"]["code"], e["extensions"].get("reason")) for e in body["errors"]]


def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def write_entries(harness: Harness) -> list[Any]:
    return [
        r.entry async for r in harness.app_services.audit.records() if r.entry.action == "write"
    ]


async def test_a_note_is_in_the_next_read_once_however_often_retried(harness: Harness) -> None:
    first = await create(harness, "kari", "kari", "note-key-0001", title="Til fastlegen")
    again = await create(harness, "kari", "kari", "note-key-0001", title="Til fastlegen")
    assert first["userErrors"] == []
    assert again["note"] == first["note"]
    note = first["note"]
    assert (note["title"], note["text"], note["version"], note["writtenBy"]) == (
        "Til fastlegen",
        "Husk å spørre",
        1,
        "SELF",
    )
    body = await listed(harness, "kari", "kari")
    assert "errors" not in body, body["errors"]
    assert [n["id"] for n in notes_of(body)] == [note["id"]]
    assert body["data"]["person"]["privateNotes"]["totalCount"] == 1
    reused = await create(harness, "kari", "kari", "note-key-0001", text="Noe annet")
    assert reused["note"] is None
    assert codes(reused) == [(["idempotencyKey"], "KEY_REUSED")]
    assert len(notes_of(await listed(harness, "kari", "kari"))) == 1


async def test_notes_are_newest_first_and_paged(harness: Harness) -> None:
    for n in range(3):
        harness.app_services.clock = _clock_at(n)
        await create(harness, "kari", "kari", f"paged-key-{n:04}", text=f"notat {n}")
    kari = await person_id(harness, "kari")
    body = (await harness.query("kari", LIST, {"id": kari})).json()
    assert [n["text"] for n in notes_of(body)] == ["notat 2", "notat 1", "notat 0"]
    cursor = body["data"]["person"]["privateNotes"]["edges"][0]["cursor"]
    rest = (await harness.query("kari", LIST, {"id": kari, "after": cursor})).json()
    assert [n["text"] for n in notes_of(rest)] == ["notat 1", "notat 0"]


def _clock_at(minutes: int) -> Any:
    import datetime as dt

    from tests.e2e.conftest import NOON

    return lambda: NOON + dt.timedelta(minutes=minutes)


async def test_invalid_input_names_each_field_in_the_callers_language(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    fields = {
        "personId": kari,
        "text": " ",
        "title": "x" * 201,
        "linkedId": "not-an-id!",
        "idempotencyKey": "short",
    }
    by_language = {}
    for language in ("en", "nn"):
        body = (
            await harness.query(
                "kari", CREATE, {"input": fields}, headers={"accept-language": language}
            )
        ).json()
        payload = body["data"]["createPrivateNote"]
        assert payload["note"] is None
        by_language[language] = {
            (tuple(e["field"]), e["code"]): e["message"] for e in payload["userErrors"]
        }
    expected = {
        (("text",), "REQUIRED"),
        (("title",), "TOO_LONG"),
        (("linkedId",), "INVALID"),
        (("idempotencyKey",), "INVALID"),
    }
    assert set(by_language["en"]) == set(by_language["nn"]) == expected
    for (_, code), message in by_language["en"].items():
        assert message == text(f"error.{code}", "en")
        assert by_language["nn"][(("text",), "REQUIRED")] == text("error.REQUIRED", "nn")
    assert by_language["en"] != by_language["nn"]
    too_long = await create(harness, "kari", "kari", "long-text-01", text="x" * 10_001)
    assert codes(too_long) == [(["text"], "TOO_LONG")]
    assert notes_of(await listed(harness, "kari", "kari")) == []


async def test_a_full_proxy_writes_the_grantors_note_and_it_is_audited(harness: Harness) -> None:
    created = await create(harness, "kari", "ola", "proxy-note-01", text="Pappa vil ha ny time")
    assert created["userErrors"] == []
    assert created["note"]["writtenBy"] == "PROXY"
    as_ola = notes_of(await listed(harness, "ola", "ola"))
    assert [(n["text"], n["writtenBy"]) for n in as_ola] == [("Pappa vil ha ny time", "PROXY")]
    assert notes_of(await listed(harness, "kari", "kari")) == []  # not the holder's note
    (entry,) = await write_entries(harness)
    ola = harness.mocks.population.persona("ola").nin
    assert (entry.subject, entry.basis, entry.categories, entry.outcome) == (
        ola,
        "PROXY",
        ("private_notes",),
        "success",
    )
    assert len(entry.resources) == 1
    assert entry.resources[0].startswith("GATEWAY/PrivateNote/pn")
    assert "Pappa" not in repr(entry)


async def test_reading_notes_is_audited_with_each_note(harness: Harness) -> None:
    note = (await create(harness, "kari", "kari", "audited-read-1"))["note"]
    before = (await harness.app_services.audit.head())[0]
    await listed(harness, "kari", "kari")
    records = [r.entry async for r in harness.app_services.audit.records()][before:]
    reads = [e for e in records if "private_notes" in e.categories]
    assert len(reads) == 1
    assert reads[0].action == "read"
    assert len(reads[0].resources) == 1
    assert note["id"] not in reads[0].resources[0]  # the global id is not the audit reference


async def test_bases_without_private_notes_neither_read_nor_write(harness: Harness) -> None:
    await create(harness, "ola", "ola", "grantor-note-1", text="Ola sin egen")
    cases = [
        ("nils", "berit", "PROXY_STANDARD"),
        ("nils", "arne", "PROXY_READ_ONLY"),
        ("nils", "solveig", "PROXY_COMMUNICATE_ONLY"),
        ("kari", "emil", "CHILD_0_11"),
        ("kari", "ida", "CHILD_12_15"),
        ("ida", "ida", "YOUTH_SERVICES_ONLY"),
    ]
    for viewer, target, reason in cases:
        body = await listed(harness, viewer, target)
        assert body["data"]["person"]["privateNotes"] is None, (viewer, target)
        assert refusal(body) == [("CATEGORY_UNAVAILABLE", reason)], (viewer, target)
        payload = await create(harness, viewer, target, f"refused-{viewer}-{target}")
        assert payload["note"] is None
        assert codes(payload) == [(["personId"], "CATEGORY_UNAVAILABLE")], (viewer, target)
    for target in ("berit", "emil", "ida"):
        nin = harness.mocks.population.persona(target).nin
        key = harness.app_services.ids.person_key(nin)
        assert await harness.app_services.userdata.notes(key) == []
    assert [e.outcome for e in await write_entries(harness)] == ["success"] + ["denied"] * 6


async def test_a_lower_login_level_sees_no_notes(harness: Harness) -> None:
    await create(harness, "kari", "kari", "low-level-01")
    body = await listed(harness, "kari", "kari", acr="idporten-loa-substantial")
    assert body["data"]["person"]["privateNotes"] is None
    assert refusal(body) == [("CATEGORY_UNAVAILABLE", "LOGIN_LEVEL_TOO_LOW")]


async def test_partner_scopes_decide_reading_and_writing(harness: Harness) -> None:
    await create(harness, "kari", "kari", "partner-base-1", text="Kari skrev")
    none = await listed(harness, "kari", "kari", scope="helsegraf:identity.read", **PARTNER)
    assert refusal(none) == [("CATEGORY_UNAVAILABLE", "PARTNER_SCOPE")]
    read = await listed(harness, "kari", "kari", scope="helsegraf:private_notes.read", **PARTNER)
    assert [n["text"] for n in notes_of(read)] == ["Kari skrev"]
    fields = {
        "personId": await person_id(harness, "kari"),
        "text": "Fra partner",
        "idempotencyKey": "partner-note-1",
    }
    refused = await mutate(
        harness, "kari", CREATE, fields, scope="helsegraf:private_notes.read", **PARTNER
    )
    assert codes(refused) == [(["personId"], "CATEGORY_UNAVAILABLE")]
    scopes = "helsegraf:private_notes.read helsegraf:private_notes.write"
    written = await mutate(harness, "kari", CREATE, fields, scope=scopes, **PARTNER)
    assert written["userErrors"] == []
    assert written["note"]["writtenBy"] == "PARTNER"
    assert len(notes_of(await listed(harness, "kari", "kari"))) == 2


async def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(
    harness: Harness,
) -> None:
    note = (await create(harness, "kari", "ola", "versioned-01", text="v1"))["note"]
    ola = await person_id(harness, "ola")
    change = {"personId": ola, "id": note["id"], "expectedVersion": 1, "text": "v2"}
    first = await mutate(harness, "ola", UPDATE, change | {"idempotencyKey": "device-a-01"})
    assert first["userErrors"] == []
    assert (first["note"]["version"], first["note"]["text"], first["note"]["updatedBy"]) == (
        2,
        "v2",
        "SELF",
    )
    # a second device (the proxy) still shows version 1
    stale = await mutate(
        harness, "kari", UPDATE, change | {"text": "v2b", "idempotencyKey": "device-b-01"}
    )
    assert stale["note"] is None
    assert codes(stale) == [(["expectedVersion"], "STALE")]
    assert stale["userErrors"][0]["message"] == text("error.STALE", "nb")
    gone = {"personId": ola, "id": note["id"], "expectedVersion": 1}
    refused = await mutate(harness, "kari", DELETE, gone | {"idempotencyKey": "delete-old-1"})
    assert codes(refused) == [(["expectedVersion"], "STALE")]
    (shown,) = notes_of(await listed(harness, "ola", "ola"))
    assert (shown["text"], shown["version"], shown["writtenBy"]) == ("v2", 2, "PROXY")


async def test_a_deleted_note_is_gone_from_the_next_read_and_from_node(harness: Harness) -> None:
    note = (await create(harness, "kari", "kari", "delete-me-01"))["note"]
    kari = await person_id(harness, "kari")
    fields = {"personId": kari, "id": note["id"], "expectedVersion": 1}
    deleted = await mutate(harness, "kari", DELETE, fields | {"idempotencyKey": "delete-01"})
    assert deleted == {"deletedId": note["id"], "userErrors": []}
    retried = await mutate(harness, "kari", DELETE, fields | {"idempotencyKey": "delete-01"})
    assert retried == deleted
    assert notes_of(await listed(harness, "kari", "kari")) == []
    again = await mutate(harness, "kari", DELETE, fields | {"idempotencyKey": "delete-02"})
    assert codes(again) == [(["id"], "NOT_FOUND")]
    body = (await harness.query("kari", NODE, {"id": note["id"]})).json()
    assert body["data"]["node"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_note_is_a_node_under_the_same_rules(harness: Harness) -> None:
    note = (await create(harness, "kari", "ola", "node-note-01", text="Node"))["note"]
    for viewer in ("kari", "ola"):
        body = (await harness.query(viewer, NODE, {"id": note["id"]})).json()
        assert "errors" not in body, body
        assert body["data"]["node"] == {"id": note["id"], "text": "Node", "writtenBy": "PROXY"}
    for viewer in ("nils", "per"):
        body = (await harness.query(viewer, NODE, {"id": note["id"]})).json()
        assert body["data"]["node"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    kari_note = (await create(harness, "kari", "kari", "node-note-02"))["note"]
    # a note id of kari used as if it were ola's: not found, nothing changed
    forged = {
        "personId": await person_id(harness, "ola"),
        "id": kari_note["id"],
        "expectedVersion": 1,
        "idempotencyKey": "forged-id-01",
    }
    refused = await mutate(harness, "kari", DELETE, forged)
    assert codes(refused) == [(["id"], "NOT_FOUND")]
    assert len(notes_of(await listed(harness, "kari", "kari"))) == 1


async def test_a_note_links_to_an_item_of_the_same_person_only(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    body = (
        await harness.query(
            "kari",
            "query($id: ID!) { person(id: $id) { "
            "appointments(first: 1) { edges { node { id } } } } }",
            {"id": kari},
        )
    ).json()
    appointment = body["data"]["person"]["appointments"]["edges"][0]["node"]["id"]
    linked = await create(harness, "kari", "kari", "linked-note-01", linkedId=appointment)
    assert linked["userErrors"] == []
    (shown,) = notes_of(await listed(harness, "kari", "kari"))
    assert shown["linkedId"] == appointment
    assert shown["linked"] == {"id": appointment, "__typename": "Appointment"}
    # the same appointment id offered for ola's note is refused
    foreign = await create(harness, "kari", "ola", "linked-note-02", linkedId=appointment)
    assert codes(foreign) == [(["linkedId"], "INVALID")]
    unknown = encode("Nothing", "ehr", "k.x")
    assert codes(await create(harness, "kari", "kari", "linked-note-03", linkedId=unknown)) == [
        (["linkedId"], "INVALID")
    ]


async def test_a_failing_store_costs_only_the_notes(harness: Harness) -> None:
    await harness.app_services.userdata.aclose()
    body = (
        await harness.query(
            "kari",
            "query($id: ID!) { person(id: $id) { name privateNotes { totalCount } } }",
            {"id": await person_id(harness, "kari")},
        )
    ).json()
    assert body["data"]["person"]["name"]
    assert body["data"]["person"]["privateNotes"] is None
    assert [(e["extensions"]["code"], e["extensions"]["source"]) for e in body["errors"]] == [
        ("UPSTREAM_UNAVAILABLE", "USERDATA")
    ]


async def test_a_linked_item_the_viewer_may_not_see_is_null_without_an_error(
    harness: Harness,
) -> None:
    kari = await person_id(harness, "kari")
    query = "query($id: ID!) { person(id: $id) { documents(first: 1) { edges { node { id } } } } }"
    body = (await harness.query("kari", query, {"id": kari})).json()
    document = body["data"]["person"]["documents"]["edges"][0]["node"]["id"]
    assert (await create(harness, "kari", "kari", "doc-link-01", linkedId=document))[
        "userErrors"
    ] == []
    as_kari = await listed(harness, "kari", "kari")
    assert notes_of(as_kari)[0]["linked"] == {"id": document, "__typename": "Document"}
    scope = "helsegraf:private_notes.read"
    as_partner = await listed(harness, "kari", "kari", scope=scope, **PARTNER)
    assert "errors" not in as_partner, as_partner["errors"]
    (shown,) = notes_of(as_partner)
    assert (shown["linkedId"], shown["linked"]) == (document, None)
