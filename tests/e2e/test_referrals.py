"""Referrals and waiting lists: statuses, filters, hidden items, bases, node ids, audit."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

REFERRALS = """
query($id: ID!, $filter: ReferralFilter) { person(id: $id) {
  referrals(first: 50, filter: $filter) {
    totalCount
    pageInfo { hasNextPage }
    edges { node {
      id status statusText receivedAt priority priorityText referredBy department place
      treatmentDeadline expectedWaitingWeeks
      waitingList { status statusText since expectedStart }
    } }
  }
} }
"""
OPERATION = (OPERATIONS_DIR / "referrals.graphql").read_text(encoding="utf-8")
NODE = "query($id: ID!) { node(id: $id) { id ... on Referral { status department } } }"


async def referrals(harness: Harness, viewer: str, target: str, **extra: Any) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), **extra}
    body: dict[str, Any] = (
        await harness.query(viewer, REFERRALS, variables, headers={"accept-language": "en"})
    ).json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["referrals"]["edges"]]


async def test_own_referrals_with_status_deadline_and_waiting_list(harness: Harness) -> None:
    body = await referrals(harness, "kari", "kari")
    assert "errors" not in body, body["errors"]
    found = nodes(body)
    assert body["data"]["person"]["referrals"]["totalCount"] == len(found) == 4
    received = [n["receivedAt"] for n in found]
    assert received == sorted(received, reverse=True)
    waiting = [n for n in found if n["status"] == "ACCEPTED"]
    assert waiting
    for referral in waiting:
        assert referral["statusText"] == "Accepted, waiting for an appointment"
        assert referral["treatmentDeadline"]
        assert referral["expectedWaitingWeeks"] > 0
        assert referral["waitingList"]["status"] == "WAITING"
        assert referral["waitingList"]["statusText"] == "On the waiting list"
        assert referral["waitingList"]["since"]
        assert referral["waitingList"]["expectedStart"]
        assert referral["department"]
        assert referral["referredBy"]
        assert referral["place"]
    assert any(n["department"].startswith("Distriktspsykiatrisk") for n in found)


async def test_status_filter_and_norwegian_texts(harness: Harness) -> None:
    body = await referrals(harness, "kari", "kari", filter={"status": ["ACCEPTED"]})
    found = nodes(body)
    assert found
    assert {n["status"] for n in found} == {"ACCEPTED"}
    assert body["data"]["person"]["referrals"]["totalCount"] == len(found)
    kari = await person_id(harness, "kari")
    nynorsk = (
        await harness.query("kari", REFERRALS, {"id": kari}, headers={"accept-language": "nn"})
    ).json()
    texts = {n["status"]: n["statusText"] for n in nodes(nynorsk)}
    assert texts["ACCEPTED"] == "Rett til helsehjelp, ventar på time"


async def test_a_psychiatric_referral_is_the_persons_own(harness: Harness) -> None:
    own = nodes(await referrals(harness, "ola", "ola"))
    as_proxy = await referrals(harness, "kari", "ola")
    assert "errors" not in as_proxy
    shown = nodes(as_proxy)
    assert len(shown) == len(own) - 1
    assert as_proxy["data"]["person"]["referrals"]["totalCount"] == len(shown)
    assert not any(n["department"].startswith("Distriktspsykiatrisk") for n in shown)
    hidden = next(n for n in own if n["department"].startswith("Distriktspsykiatrisk"))
    body = (await harness.query("kari", NODE, {"id": hidden["id"]})).json()
    assert body["data"]["node"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    token = harness.token("kari", act={"client_id": "partner-x"}, scope="helsegraf:referrals.read")
    variables = {"id": await person_id(harness, "kari"), "first": 50}
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(OPERATION)}", "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    partner = response.json()
    assert "errors" not in partner, partner["errors"]
    departments = [n["department"] for n in nodes(partner)]
    assert len(departments) == 3  # kari's four, less the psychiatric one
    assert not any(d.startswith("Distriktspsykiatrisk") for d in departments)


async def test_parents_see_a_young_childs_referrals_not_a_teenagers(harness: Harness) -> None:
    emil = await referrals(harness, "kari", "emil")
    assert "errors" not in emil
    assert nodes(emil)
    ida = await referrals(harness, "kari", "ida")
    assert ida["data"]["person"]["referrals"] is None
    assert [e["extensions"] for e in ida["errors"]] == [
        {"code": "CATEGORY_UNAVAILABLE", "category": "referrals", "reason": "CHILD_12_15"}
    ]


async def test_a_referral_id_is_a_node_and_is_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    first = nodes(await referrals(harness, "kari", "emil"))[0]
    before = (await audit.head())[0]
    body = (await harness.query("kari", NODE, {"id": first["id"]})).json()
    assert body["data"]["node"] == {
        "id": first["id"],
        "status": first["status"],
        "department": first["department"],
    }
    records = [r.entry async for r in audit.records() if r.seq > before]
    assert [(e.basis, e.categories, e.action) for e in records] == [
        ("PARENT", ("referrals",), "read")
    ]
    assert records[0].resources[0].startswith("EHR/ServiceRequest/")
    other = (await harness.query("nils", NODE, {"id": first["id"]})).json()
    assert other["data"]["node"] is None
