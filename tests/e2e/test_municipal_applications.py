"""Person.municipalApplications and MunicipalService/MunicipalApplication nodes, end to
end: per basis, statuses and texts, the decision link, paging, a municipality down, a
municipality the gateway does not serve, and the audit record."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resolvers.core.ids import encode
from tests.e2e.conftest import MOCK_ORIGIN, Harness
from tests.e2e.municipal_support import (
    PARTNER,
    gateway_without,
    gateways,
    person_id,
    read_operation,
)

APPLICATIONS = """
query($id: ID!, $first: Int, $after: String, $filter: MunicipalApplicationFilter) {
  person(id: $id) {
    name
    municipalServices { id }
    municipalApplications(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id service serviceText status statusText submittedAt expectedDecisionOn decidedOn
        caseOfficerUnit description decision { id type statusText }
        source { kind municipality name }
      } }
    }
  }
}
"""
NODE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on MunicipalApplication { status service }
    ... on MunicipalService { type }
  }
}
"""


async def applications(
    harness: Harness, viewer: str, target: str, headers: dict[str, str] | None = None, **args: Any
) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), **args}
    body: dict[str, Any] = (
        await harness.query(viewer, APPLICATIONS, variables, headers=headers)
    ).json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["municipalApplications"]["edges"]]


async def test_kari_sees_her_applications_newest_first_with_the_decision_linked(
    harness: Harness,
) -> None:
    body = await applications(harness, "kari", "kari", {"accept-language": "en"})
    assert "errors" not in body, body.get("errors")
    found = nodes(body)
    assert [(a["service"], a["status"]) for a in found] == [
        ("SAFETY_ALARM", "IN_REVIEW"),
        ("NURSING_HOME", "WITHDRAWN"),
        ("HOME_NURSING", "DECIDED_GRANTED"),
    ]
    assert [a["statusText"] for a in found] == ["In review", "Withdrawn", "Granted"]
    assert found[0]["serviceText"] == "Safety alarm"
    pending, withdrawn, granted = found
    assert pending["expectedDecisionOn"]
    assert pending["decidedOn"] is None
    assert pending["decision"] is None
    assert withdrawn["decision"] is None
    [decision] = body["data"]["person"]["municipalServices"]
    assert granted["decision"] == {
        "id": decision["id"],
        "type": "HOME_NURSING",
        "statusText": "Granted",
    }
    assert granted["decidedOn"] == "2023-11-02"
    assert {a["caseOfficerUnit"] for a in found} == {"Tildelingskontoret i Trondheim kommune"}
    assert found[0]["source"] == {"kind": "MUNICIPAL", "municipality": "5001", "name": "Trondheim"}
    assert body["data"]["person"]["municipalApplications"]["totalCount"] == 3


async def test_texts_in_nynorsk(harness: Harness) -> None:
    body = await applications(harness, "kari", "kari", {"accept-language": "nn"})
    texts = [(a["serviceText"], a["statusText"]) for a in nodes(body)]
    assert texts[0] == ("Tryggleiksalarm", "Under handsaming")
    assert texts[2] == ("Heimesjukepleie", "Innvilga")


async def test_status_filter_and_paging(harness: Harness) -> None:
    only = await applications(harness, "kari", "kari", filter={"status": ["DECIDED_GRANTED"]})
    assert [a["status"] for a in nodes(only)] == ["DECIDED_GRANTED"]
    assert only["data"]["person"]["municipalApplications"]["totalCount"] == 1
    first = await applications(harness, "kari", "kari", first=2)
    connection = first["data"]["person"]["municipalApplications"]
    assert connection["pageInfo"]["hasNextPage"] is True
    rest = await applications(
        harness, "kari", "kari", first=2, after=connection["pageInfo"]["endCursor"]
    )
    ids = [a["id"] for a in nodes(first)] + [a["id"] for a in nodes(rest)]
    everything = [a["id"] for a in nodes(await applications(harness, "kari", "kari"))]
    assert ids == everything
    assert rest["data"]["person"]["municipalApplications"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("viewer", "target", "allowed", "reason"),
    [
        pytest.param("kari", "emil", True, None, id="parent-of-8"),
        pytest.param("kari", "ida", True, None, id="parent-of-14"),
        pytest.param("kari", "ola", True, None, id="full-proxy"),
        pytest.param("nils", "berit", True, None, id="standard-proxy"),
        pytest.param("nils", "arne", True, None, id="read-only-proxy"),
        pytest.param("nils", "solveig", False, "PROXY_COMMUNICATE_ONLY", id="communicate-only"),
        pytest.param("ida", "ida", False, "YOUTH_SERVICES_ONLY", id="youth"),
    ],
)
async def test_who_may_read_applications(
    harness: Harness, viewer: str, target: str, allowed: bool, reason: str | None
) -> None:
    harness.mocks.reset_counters()
    body = await applications(harness, viewer, target)
    person = body["data"]["person"]
    if allowed:
        assert "errors" not in body, body["errors"]
        assert person["municipalApplications"] is not None
        return
    assert person["municipalApplications"] is None
    errors = [e for e in body["errors"] if e["path"] == ["person", "municipalApplications"]]
    assert [e["extensions"] for e in errors] == [
        {"code": "CATEGORY_UNAVAILABLE", "category": "municipal_services", "reason": reason}
    ]
    assert sum(v for k, v in harness.mocks.counts().items() if k.startswith("MUNICIPAL")) == 0


async def test_an_application_kept_from_guardians_is_absent_for_the_parent(
    harness: Harness,
) -> None:
    body = await applications(harness, "kari", "ida")
    assert "errors" not in body, body["errors"]
    assert [a["service"] for a in nodes(body)] == ["PRACTICAL_ASSISTANCE", "HOME_NURSING"]
    assert body["data"]["person"]["municipalApplications"]["totalCount"] == 2
    # the mock holds a third one, kept from guardians: as a node it is as absent as none
    ida = harness.mocks.population.persona("ida").nin
    held = await mock_applications(harness, ida)
    [kept] = [a["id"] for a in held if a["keptFromGuardians"]]
    key = harness.app_services.ids.person_key(ida)
    hidden = encode("MunicipalApplication", "m5001", f"{key}.{kept}")
    made_up = encode("MunicipalApplication", "m5001", f"{key}.{kept}x")
    answer = (await harness.query("kari", NODE, {"id": hidden})).json()
    nothing = (await harness.query("kari", NODE, {"id": made_up})).json()
    assert answer == nothing
    assert answer["data"]["node"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]


async def mock_applications(harness: Harness, nin: str) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=harness.mocks.asgi())
    async with httpx.AsyncClient(transport=transport, base_url=MOCK_ORIGIN) as client:
        response = await client.post(
            "/municipalities/5001/api/v1/applications/_search", json={"nin": nin}
        )
    items: list[dict[str, Any]] = response.json()["applications"]
    return items


async def test_a_municipality_on_the_shared_ehr_still_lists_its_applications() -> None:
    async with gateways(1, shared_ehr_municipalities=["5001"]) as (shared,):
        on_ehr = await applications(shared, "kari", "kari")
    async with gateways(1, shared_ehr_municipalities=[]) as (own,):
        api_only = await applications(own, "kari", "kari")
    assert "errors" not in on_ehr
    assert "errors" not in api_only
    assert len(nodes(on_ehr)) == 3
    assert [a["status"] for a in nodes(on_ehr)] == [a["status"] for a in nodes(api_only)]


async def test_partner_needs_the_municipal_services_read_scope(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    refused = await read_operation(harness, kari, {"scope": "helsegraf:identity.read", **PARTNER})
    assert refused["data"]["person"]["municipalApplications"] is None
    codes = {e["extensions"]["code"] for e in refused["errors"]}
    assert codes == {"CATEGORY_UNAVAILABLE"}
    scope = "helsegraf:municipal_services.read"
    allowed = await read_operation(harness, kari, {"scope": scope, **PARTNER})
    # the screen's appointments need other scopes; the municipal fields need only this one
    paths = {e["path"][-1] for e in allowed.get("errors", [])}
    assert not paths & {"municipalServices", "municipalApplications", "homeCareVisits"}
    assert allowed["data"]["person"]["municipalApplications"]["totalCount"] == 3
    assert allowed["data"]["person"]["homeCareVisits"]["totalCount"] > 0


async def test_a_municipality_down_costs_only_its_fields(harness: Harness) -> None:
    harness.mocks.municipal["5001"].faults.error_rate = 1.0
    body = await applications(harness, "kari", "kari")
    person = body["data"]["person"]
    assert person["name"] == "Kari Nordmann"
    assert person["municipalApplications"] is None
    by_path = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert by_path[("person", "municipalApplications")]["source"] == "MUNICIPAL 5001"
    assert by_path[("person", "municipalApplications")]["code"].startswith("UPSTREAM_")
    ola = await applications(harness, "kari", "ola")  # Levanger still answers
    assert "errors" not in ola, ola["errors"]


async def test_a_municipality_the_gateway_does_not_serve_has_no_applications() -> None:
    async with gateway_without("5037") as harness:
        body = await applications(harness, "kari", "ola")
        assert "errors" not in body, body["errors"]
        connection = body["data"]["person"]["municipalApplications"]
        assert connection == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        }


async def test_applications_and_decisions_are_nodes_under_the_same_rules(
    harness: Harness,
) -> None:
    body = await applications(harness, "kari", "ida")
    listed = [a["id"] for a in nodes(body)] + [
        s["id"] for s in body["data"]["person"]["municipalServices"]
    ]
    assert len(listed) == 3
    for global_id in listed:
        again = (await harness.query("kari", NODE, {"id": global_id})).json()
        assert "errors" not in again, again
        assert again["data"]["node"]["id"] == global_id
        youth = (await harness.query("ida", NODE, {"id": global_id})).json()
        stranger = (await harness.query("nils", NODE, {"id": global_id})).json()
        for refused in (youth, stranger):
            assert refused["data"]["node"] is None
            assert [e["extensions"]["code"] for e in refused["errors"]] in (
                ["FORBIDDEN"],
                ["CATEGORY_UNAVAILABLE"],
            )


async def test_the_read_is_audited_with_each_application(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = await applications(harness, "kari", "ola")
    assert "errors" not in body
    body = await applications(harness, "kari", "ida")
    records = [r.entry async for r in audit.records()][before:]
    ida = records[-1]
    assert ida.basis == "PARENT"
    assert "municipal_services" in ida.categories
    refs = [r for r in ida.resources if "/Application/" in r]
    assert len(refs) == 2  # the one kept from guardians is neither shown nor recorded
    assert all(r.startswith("MUNICIPAL 5001/Application/ap-5001-") for r in refs)
