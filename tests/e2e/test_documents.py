"""Documents end to end: the list in the graph and the download route, per basis."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from resolvers.core.ids import encode
from sources.audit import AuditUnavailable
from tests.e2e.conftest import MOCK_ORIGIN, Harness
from tests.e2e.test_matrix import person_id

DOCUMENTS = """
query($id: ID!) {
  person(id: $id) {
    documents(first: 20) {
      totalCount
      edges { node { id title type typeText date contentType size downloadUrl } }
    }
  }
}
"""
EHR = f"{MOCK_ORIGIN}/ehr/fhir/R4"


async def documents(harness: Harness, viewer: str, target: str, **headers: str) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target)}
    response = await harness.query(viewer, DOCUMENTS, variables, headers=headers)
    body: dict[str, Any] = response.json()
    return body


async def nodes(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    body = await documents(harness, viewer, target)
    assert "errors" not in body, body.get("errors")
    return [e["node"] for e in body["data"]["person"]["documents"]["edges"]]


async def fetch(harness: Harness, viewer: str | None, url: str) -> httpx.Response:
    headers = {} if viewer is None else {"authorization": f"Bearer {harness.token(viewer)}"}
    return await harness.client.get(url, headers=headers)


async def mock_ehr(harness: Harness, path: str, **params: str) -> Any:
    """Straight from the mock EHR, bypassing the gateway (what the record really holds)."""
    transport = httpx.ASGITransport(app=harness.mocks.asgi())
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"{EHR}/{path}", params=params)
    assert response.status_code == 200
    return response.json()


async def binary_text(harness: Harness, document_key: str) -> bytes:
    binary = await mock_ehr(harness, f"Binary/{document_key}")
    return base64.b64decode(binary["data"])


def key_of(global_id: str) -> str:
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    kind, source, key = raw.split(":", 2)
    assert (kind, source) == ("Document", "ehr")
    person_key, dot, record_id = key.partition(".")
    assert person_key, "a document id names the person it was listed for"
    assert dot
    return record_id


async def test_kari_lists_her_documents_newest_first(harness: Harness) -> None:
    body = await documents(harness, "kari", "kari", **{"accept-language": "en"})
    assert "errors" not in body, body.get("errors")
    connection = body["data"]["person"]["documents"]
    found = [e["node"] for e in connection["edges"]]
    assert found
    assert connection["totalCount"] == len(found)
    dates = [d["date"] for d in found]
    assert dates == sorted(dates, reverse=True)
    for document in found:
        assert document["type"] == "INVITATION"
        assert document["typeText"] == "Invitation"
        assert document["contentType"] == "text/plain"
        assert document["downloadUrl"] == f"/documents/{document['id']}"
        assert "Binary" not in str(document)
    nn = (await documents(harness, "kari", "kari", **{"accept-language": "nn"}))["data"]
    assert nn["person"]["documents"]["edges"][0]["node"]["typeText"] == "Innkalling"


async def test_kari_downloads_her_document_and_it_is_audited(harness: Harness) -> None:
    [document, *_] = await nodes(harness, "kari", "kari")
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    response = await fetch(harness, "kari", document["downloadUrl"])
    assert response.status_code == 200
    key = key_of(document["id"])
    assert response.content == await binary_text(harness, key)
    assert len(response.content) == document["size"]
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Innkalling ')
    assert '.txt"' in disposition
    [record] = [r.entry async for r in audit.records()][before:]
    assert (record.basis, record.categories, record.action, record.outcome) == (
        "SELF",
        ("documents",),
        "read",
        "success",
    )
    assert record.resources == (f"EHR/DocumentReference/{key}",)


async def test_a_parent_of_an_eight_year_old_downloads_the_childs_document(
    harness: Harness,
) -> None:
    [document, *_] = await nodes(harness, "kari", "emil")
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    response = await fetch(harness, "kari", document["downloadUrl"])
    assert response.status_code == 200
    assert response.content == await binary_text(harness, key_of(document["id"]))
    [record] = [r.entry async for r in audit.records()][before:]
    assert record.basis == "PARENT"
    assert record.subject == harness.mocks.population.persona("emil").nin


async def _idas_document_url(harness: Harness) -> str:
    ida = harness.mocks.population.persona("ida")
    bundle = await mock_ehr(harness, "DocumentReference", patient=ida.fhir_id)
    keys = [e["resource"]["id"] for e in bundle.get("entry", [])]
    assert keys, "the mock should hold a document for ida"
    person_key = harness.app_services.ids.person_key(ida.nin)
    return f"/documents/{encode('Document', 'ehr', f'{person_key}.{keys[0]}')}"


async def test_a_parent_of_a_fourteen_year_old_is_refused_documents(harness: Harness) -> None:
    body = await documents(harness, "kari", "ida")
    assert body["data"]["person"]["documents"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "CATEGORY_UNAVAILABLE", "category": "documents", "reason": "CHILD_12_15"}
    ]
    url = await _idas_document_url(harness)
    refused = await fetch(harness, "kari", url)
    ida_key = harness.app_services.ids.person_key(harness.mocks.population.persona("ida").nin)
    made_up = await fetch(
        harness, "kari", f"/documents/{encode('Document', 'ehr', f'{ida_key}.nothing')}"
    )
    assert refused.status_code == made_up.status_code == 404
    assert refused.json() == made_up.json()


@pytest.mark.parametrize(
    "made_up",
    [
        encode("Document", "ehr", "no-such-document"),
        encode("Document", "ehr", "someone.no-such-document"),
        encode("Person", "gw", "abc"),
        encode("Document", "ehr", "../Patient/1"),
        "not-an-id!!",
        "x" * 600,
    ],
)
async def test_someone_unrelated_gets_the_same_404_as_for_a_made_up_id(
    harness: Harness, made_up: str
) -> None:
    [document, *_] = await nodes(harness, "kari", "kari")
    other = await fetch(harness, "per", document["downloadUrl"])
    nothing = await fetch(harness, "per", f"/documents/{made_up}")
    assert other.status_code == nothing.status_code == 404
    assert (
        other.json()
        == nothing.json()
        == {"errors": [{"message": "No such document.", "extensions": {"code": "NOT_FOUND"}}]}
    )
    assert other.headers["content-type"] == nothing.headers["content-type"]
    assert "content-disposition" not in other.headers


async def test_no_token_is_401_like_graphql(harness: Harness) -> None:
    [document, *_] = await nodes(harness, "kari", "kari")
    response = await fetch(harness, None, document["downloadUrl"])
    graphql = await harness.query(None, "{ viewer { person { name } } }")
    assert response.status_code == graphql.status_code == 401
    assert response.json() == graphql.json()
    assert response.headers["www-authenticate"] == 'Bearer realm="helsegraf"'
    bad = await harness.client.get(
        document["downloadUrl"], headers={"authorization": "Bearer not-a-token"}
    )
    assert bad.status_code == 401


async def test_ehr_down_costs_the_field_and_the_download_says_so(harness: Harness) -> None:
    listed = await harness.query(
        "kari", DOCUMENTS.replace("first: 20", "first: 5"), {"id": await person_id(harness, "kari")}
    )
    [document, *_] = [e["node"] for e in listed.json()["data"]["person"]["documents"]["edges"]]
    harness.mocks.ehr.faults.error_rate = 1.0
    # The record changed (as an upstream notification would say): neither the answer nor
    # the EHR's raw answers cached a moment ago may stand in for the EHR now.
    responses = harness.app_services.responses
    assert responses is not None
    await responses.changed([harness.mocks.population.persona("kari").nin])
    body = await documents(harness, "kari", "kari")
    assert body["data"]["person"]["documents"] is None
    [error] = body["errors"]
    assert error["path"] == ["person", "documents"]
    assert error["extensions"]["source"] == "EHR"
    assert error["extensions"]["code"].startswith("UPSTREAM_")
    response = await fetch(harness, "kari", document["downloadUrl"])
    assert response.status_code in (502, 503)
    [failure] = response.json()["errors"]
    assert failure["extensions"]["source"] == "EHR"
    assert failure["extensions"]["code"].startswith("UPSTREAM_")
    assert "mocks.test" not in response.text
    assert "Binary" not in response.text
    assert "content-disposition" not in response.headers


async def test_no_audit_no_download(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    [document, *_] = await nodes(harness, "kari", "kari")

    async def unavailable(entries: object) -> None:
        raise AuditUnavailable("the audit store is down")

    monkeypatch.setattr(harness.app_services.audit, "append", unavailable)
    response = await fetch(harness, "kari", document["downloadUrl"])
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "Hei" not in response.text
    assert "content-disposition" not in response.headers


async def test_a_document_id_forged_onto_another_person_is_404(harness: Harness) -> None:
    [document, *_] = await nodes(harness, "kari", "kari")
    emil_key = harness.app_services.ids.person_key(harness.mocks.population.persona("emil").nin)
    forged = encode("Document", "ehr", f"{emil_key}.{key_of(document['id'])}")
    response = await fetch(harness, "kari", f"/documents/{forged}")
    assert response.status_code == 404


FILTERED = """
query($id: ID!, $filter: DocumentFilter) {
  person(id: $id) {
    documents(first: 50, filter: $filter) { totalCount edges { node { type date } } }
  }
}
"""


async def test_documents_filter_by_type_and_days(harness: Harness) -> None:
    everything = await nodes(harness, "kari", "kari")
    assert len({d["type"] for d in everything}) >= 1
    kind = everything[0]["type"]
    day = everything[0]["date"][:10]
    variables = {
        "id": await person_id(harness, "kari"),
        "filter": {"types": [kind], "dates": {"from": day, "to": day}},
    }
    body = (await harness.query("kari", FILTERED, variables)).json()
    assert "errors" not in body, body
    found = [e["node"] for e in body["data"]["person"]["documents"]["edges"]]
    expected = [d for d in everything if d["type"] == kind and d["date"][:10] == day]
    assert found
    assert len(found) == len(expected)
    assert body["data"]["person"]["documents"]["totalCount"] == len(expected)
    backwards = {**variables, "filter": {"dates": {"from": day, "to": "2000-01-01"}}}
    refused = (await harness.query("kari", FILTERED, backwards)).json()
    assert refused["data"]["person"]["documents"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_download_refused_for_want_of_the_registry_is_on_the_record(
    harness: Harness,
) -> None:
    """With the national portal down, a child's document is not served (503 naming the
    portal), and the attempt is recorded as on /graphql: REGISTRY_UNAVAILABLE."""
    [document, *_] = await nodes(harness, "kari", "emil")
    harness.mocks.national.faults.error_rate = 1.0
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    response = await fetch(harness, "kari", document["downloadUrl"])
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["source"] == "NATIONAL"
    entries = [r.entry async for r in audit.records() if r.seq > before]
    assert [(e.outcome, e.reason) for e in entries] == [("denied", "REGISTRY_UNAVAILABLE")]
    assert harness.mocks.population.persona("emil").nin not in response.text
