"""One timeline across every source: merged, newest first, filtered, paged, audited."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

TIMELINE = """
query($id: ID!, $first: Int, $after: String, $filter: TimelineFilter) {
  person(id: $id) {
    timeline(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { at kind kindText title source { kind } node { id } } }
    }
  }
}
"""


async def timeline(
    harness: Harness,
    viewer: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    **args: Any,
) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), **args}
    body: dict[str, Any] = (
        await harness.query(viewer, TIMELINE, variables, headers=headers)
    ).json()
    return body


def events(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body.get("errors")
    return [e["node"] for e in body["data"]["person"]["timeline"]["edges"]]


async def test_the_timeline_merges_sources_newest_first(harness: Harness) -> None:
    body = await timeline(harness, "ola", "ola", first=100)
    found = events(body)
    kinds = {e["kind"] for e in found}
    assert {"DOCUMENT", "LAB_RESULT", "VACCINATION", "APPOINTMENT", "MESSAGE"} <= kinds, kinds
    moments = [e["at"] for e in found]
    assert moments == sorted(moments, reverse=True)
    assert body["data"]["person"]["timeline"]["totalCount"] >= len(found)
    assert all(e["node"]["id"] for e in found)


async def test_paging_walks_every_event_once(harness: Harness) -> None:
    whole = events(await timeline(harness, "ola", "ola", first=100))
    walked: list[dict[str, Any]] = []
    after = None
    while True:
        body = await timeline(harness, "ola", "ola", first=7, after=after)
        walked += events(body)
        info = body["data"]["person"]["timeline"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert [e["node"]["id"] for e in walked] == [e["node"]["id"] for e in whole]


async def test_filters_by_kind_and_days(harness: Harness) -> None:
    whole = events(await timeline(harness, "ola", "ola", first=100))
    day = next(e["at"][:10] for e in whole if e["kind"] == "LAB_RESULT")
    only = {"kinds": ["LAB_RESULT"], "dates": {"from": day, "to": day}}
    found = events(await timeline(harness, "ola", "ola", first=100, filter=only))
    assert found
    assert {e["kind"] for e in found} == {"LAB_RESULT"}
    assert {e["at"][:10] for e in found} == {day}
    expected = [e for e in whole if e["kind"] == "LAB_RESULT" and e["at"][:10] == day]
    assert len(found) == len(expected)


async def test_a_basis_sees_only_its_categories_without_errors(harness: Harness) -> None:
    """A parent of a 14-year-old sees vaccinations but no results or documents, and the
    timeline neither errors nor reports the missing categories again."""
    body = await timeline(harness, "kari", "ida", first=100)
    kinds = {e["kind"] for e in events(body)}
    assert "LAB_RESULT" not in kinds
    assert "DOCUMENT" not in kinds
    assert "REFERRAL" not in kinds
    # Appointments the timeline shows are the municipal ones this basis may see, the same
    # ones the appointment list shows.
    listed = (
        await harness.query(
            "kari",
            "query($id: ID!) { person(id: $id) { appointments(first: 100) "
            "{ edges { node { id } } } } }",
            {"id": await person_id(harness, "ida")},
        )
    ).json()["data"]["person"]["appointments"]["edges"]
    upcoming = {e["node"]["id"] for e in listed}
    on_timeline = {e["node"]["id"] for e in events(body) if e["kind"] == "APPOINTMENT"}
    assert upcoming
    assert upcoming <= on_timeline
    own = {e["kind"] for e in events(await timeline(harness, "ida", "ida", first=100))}
    assert "LAB_RESULT" not in own  # the youth basis does not include results either


async def test_kind_texts_are_translated(harness: Harness) -> None:
    nb = events(await timeline(harness, "ola", "ola", first=100))
    en = events(await timeline(harness, "ola", "ola", first=100, headers={"accept-language": "en"}))
    bokmal = {e["kind"]: e["kindText"] for e in nb}
    english = {e["kind"]: e["kindText"] for e in en}
    assert english["LAB_RESULT"] == "Test result"
    assert bokmal["LAB_RESULT"] == "Prøvesvar"


async def test_only_the_events_on_the_page_are_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = await timeline(harness, "ola", "ola", first=3)
    shown = events(body)
    assert len(shown) == 3
    entries = [r.entry async for r in audit.records()][before:]
    references = [ref for entry in entries for ref in entry.resources]
    assert len(references) == 3
