"""The care team: roles, department contacts, a child's team, hidden teams, node ids."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

CARE_TEAM = """
query($id: ID!) { person(id: $id) {
  careTeam { id name role roleText organisation team start end contact { phone organisation } }
} }
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on CareTeamMember { role name } } }"


async def care_team(
    harness: Harness, viewer: str, target: str, language: str = "en"
) -> dict[str, Any]:
    body: dict[str, Any] = (
        await harness.query(
            viewer,
            CARE_TEAM,
            {"id": await person_id(harness, target)},
            headers={"accept-language": language},
        )
    ).json()
    return body


async def test_roles_are_translated_and_contacts_are_department_phones(harness: Harness) -> None:
    body = await care_team(harness, "kari", "kari")
    assert "errors" not in body, body["errors"]
    members = body["data"]["person"]["careTeam"]
    roles = [m["role"] for m in members]
    assert roles[:3] == ["CONTACT_PHYSICIAN", "CONTACT_NURSE", "COORDINATOR"]
    assert "GP" in roles
    texts = {m["role"]: m["roleText"] for m in members}
    assert texts["CONTACT_NURSE"] == "Contact nurse"
    assert texts["GP"] == "Regular GP"
    for member in members:
        assert member["name"]
        assert member["organisation"]
        assert member["contact"]["phone"].startswith("+47 7")
        assert member["contact"]["organisation"] == member["organisation"]
    nynorsk = await care_team(harness, "kari", "kari", "nn")
    nn_texts = {m["role"]: m["roleText"] for m in nynorsk["data"]["person"]["careTeam"]}
    assert nn_texts["CONTACT_NURSE"] == "Kontaktsjukepleiar"


async def test_parents_see_the_care_team_of_children_of_both_age_bands(harness: Harness) -> None:
    for child in ("emil", "ida"):
        body = await care_team(harness, "kari", child)
        assert "errors" not in body, (child, body["errors"])
        assert body["data"]["person"]["careTeam"], child
    outsider = await care_team(harness, "frode", "emil")
    assert outsider["data"]["person"] is None


async def test_a_psychiatric_team_is_seen_by_the_person_only(harness: Harness) -> None:
    own = (await care_team(harness, "ola", "ola"))["data"]["person"]["careTeam"]
    as_proxy = (await care_team(harness, "kari", "ola"))["data"]["person"]["careTeam"]
    psychiatric = [m for m in own if m["organisation"] == "Distriktspsykiatrisk senter"]
    assert len(psychiatric) == 2
    assert len(as_proxy) == len(own) - 2
    assert not [m for m in as_proxy if m["organisation"] == "Distriktspsykiatrisk senter"]
    body = (await harness.query("kari", NODE, {"id": psychiatric[0]["id"]})).json()
    assert body["data"]["node"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_communicate_only_proxies_do_not_see_it(harness: Harness) -> None:
    body = await care_team(harness, "nils", "solveig")
    assert body["data"]["person"]["careTeam"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {
            "code": "CATEGORY_UNAVAILABLE",
            "category": "care_team",
            "reason": "PROXY_COMMUNICATE_ONLY",
        }
    ]


async def test_a_member_is_a_node_and_the_read_is_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    members = (await care_team(harness, "kari", "ida"))["data"]["person"]["careTeam"]
    records = [r.entry async for r in audit.records() if r.seq > before]
    care = [e for e in records if "care_team" in e.categories]
    assert [(e.basis, e.action) for e in care] == [("PARENT", "read")]
    assert care[0].resources
    assert all(r.startswith("EHR/CareTeam/") for r in care[0].resources)
    body = (await harness.query("kari", NODE, {"id": members[0]["id"]})).json()
    assert body["data"]["node"] == {
        "id": members[0]["id"],
        "role": members[0]["role"],
        "name": members[0]["name"],
    }
