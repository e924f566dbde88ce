"""Person.homeCareVisits and the HomeCareVisit node, end to end: the visits of a granted
home-nursing decision, texts, day filters, paging, bases, a municipality down, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import Harness
from tests.e2e.municipal_support import gateway_without, person_id

VISITS = """
query($id: ID!, $first: Int, $after: String, $filter: HomeCareVisitFilter) {
  person(id: $id) {
    name
    homeCareVisits(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id service serviceText start end status statusText tasks { type typeText } team
        source { kind municipality }
      } }
    }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on HomeCareVisit { start status } } }"


async def visits(
    harness: Harness, viewer: str, target: str, headers: dict[str, str] | None = None, **args: Any
) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), **args}
    body: dict[str, Any] = (await harness.query(viewer, VISITS, variables, headers=headers)).json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["homeCareVisits"]["edges"]]


async def test_kari_sees_her_home_nursing_visits_in_time_order(harness: Harness) -> None:
    body = await visits(harness, "kari", "kari", {"accept-language": "en"}, first=50)
    assert "errors" not in body, body.get("errors")
    found = nodes(body)
    assert body["data"]["person"]["homeCareVisits"]["totalCount"] == len(found) == 43
    starts = [v["start"] for v in found]
    assert starts == sorted(starts)
    today = REFERENCE_DAY.isoformat()
    assert {v["status"] for v in found if v["start"][:10] < today} <= {"DONE", "CANCELLED"}
    assert {v["status"] for v in found if v["start"][:10] >= today} <= {"PLANNED", "CANCELLED"}
    first = found[0]
    assert (first["service"], first["serviceText"]) == ("HOME_NURSING", "Home nursing")
    assert first["end"] > first["start"]
    assert first["team"] == "Hjemmetjenesten i Trondheim"
    texts = {t["type"]: t["typeText"] for v in found for t in v["tasks"]}
    assert texts["MEDICATION"] == "Medication"
    assert {v["statusText"] for v in found if v["status"] == "DONE"} == {"Done"}
    assert first["source"] == {"kind": "MUNICIPAL", "municipality": "5001"}
    home = harness.mocks.population.persona("kari").address
    assert home.street not in str(body)


async def test_texts_in_bokmaal_and_nynorsk(harness: Harness) -> None:
    nb = nodes(await visits(harness, "kari", "kari", first=50))
    nn = nodes(await visits(harness, "kari", "kari", {"accept-language": "nn"}, first=50))
    assert nb[0]["serviceText"] == "Hjemmesykepleie"
    assert nn[0]["serviceText"] == "Heimesjukepleie"
    planned = [v["statusText"] for v in nb + nn if v["status"] == "PLANNED"]
    assert set(planned) == {"Planlagt", "Planlagd"}


async def test_from_and_to_choose_the_days_and_paging_follows(harness: Harness) -> None:
    week = {"from": REFERENCE_DAY.isoformat(), "to": (REFERENCE_DAY + dt.timedelta(6)).isoformat()}
    body = await visits(harness, "kari", "kari", filter=week, first=4)
    connection = body["data"]["person"]["homeCareVisits"]
    assert connection["totalCount"] == 7
    assert connection["pageInfo"]["hasNextPage"] is True
    rest = await visits(
        harness, "kari", "kari", filter=week, first=4, after=connection["pageInfo"]["endCursor"]
    )
    days = [v["start"][:10] for v in nodes(body) + nodes(rest)]
    assert days == [(REFERENCE_DAY + dt.timedelta(n)).isoformat() for n in range(7)]
    backwards = await visits(
        harness, "kari", "kari", filter={"from": week["to"], "to": week["from"]}
    )
    assert backwards["data"]["person"]["homeCareVisits"] is None
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("viewer", "target", "count", "reason"),
    [
        pytest.param("kari", "ida", 43, None, id="parent-of-14-sees-visits"),
        pytest.param("kari", "emil", 0, None, id="parent-of-8-none-to-see"),
        pytest.param("kari", "ola", 0, None, id="full-proxy"),
        pytest.param("nils", "arne", 0, None, id="read-only-proxy"),
        pytest.param("nils", "solveig", None, "PROXY_COMMUNICATE_ONLY", id="communicate-only"),
        pytest.param("ida", "ida", None, "YOUTH_SERVICES_ONLY", id="youth"),
    ],
)
async def test_who_may_see_visits(
    harness: Harness, viewer: str, target: str, count: int | None, reason: str | None
) -> None:
    body = await visits(harness, viewer, target, first=50)
    connection = body["data"]["person"]["homeCareVisits"]
    if reason is None:
        assert "errors" not in body, body["errors"]
        assert connection["totalCount"] == count
        return
    assert connection is None
    assert [e["extensions"]["reason"] for e in body["errors"]] == [reason]


async def test_a_municipality_down_costs_only_the_visits(harness: Harness) -> None:
    harness.mocks.municipal["5001"].faults.error_rate = 1.0
    body = await visits(harness, "kari", "kari")
    assert body["data"]["person"]["name"] == "Kari Nordmann"
    assert body["data"]["person"]["homeCareVisits"] is None
    [error] = body["errors"]
    assert error["path"] == ["person", "homeCareVisits"]
    assert error["extensions"]["source"] == "MUNICIPAL 5001"


async def test_a_municipality_the_gateway_does_not_serve_has_no_visits() -> None:
    async with gateway_without("5001") as harness:
        body = await visits(harness, "kari", "kari")
        assert "errors" not in body, body["errors"]
        assert body["data"]["person"]["homeCareVisits"]["totalCount"] == 0


async def test_visits_are_nodes_under_the_same_rules(harness: Harness) -> None:
    found = nodes(await visits(harness, "kari", "ida", first=3))
    assert len(found) == 3
    for visit in found:
        again = (await harness.query("kari", NODE, {"id": visit["id"]})).json()
        assert again["data"]["node"] == {
            "id": visit["id"],
            "start": visit["start"],
            "status": visit["status"],
        }
        stranger = (await harness.query("nils", NODE, {"id": visit["id"]})).json()
        assert stranger["data"]["node"] is None
        assert [e["extensions"]["code"] for e in stranger["errors"]] == ["FORBIDDEN"]


async def test_the_visits_shown_are_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = await visits(harness, "kari", "ida", first=5)
    assert "errors" not in body
    [entry] = [r.entry async for r in audit.records()][before:]
    assert (entry.basis, entry.categories) == ("PARENT", ("identity", "municipal_services"))
    refs = [r for r in entry.resources if "/HomeCareVisit/" in r]
    assert len(refs) == 5  # the page shown, not the whole list
