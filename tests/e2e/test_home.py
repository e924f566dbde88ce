"""kari's home screen, end to end: every source, merged, with counted upstream calls."""

from __future__ import annotations

from typing import Any

from mocks.registry import MUNICIPALITY_BY_CODE
from tests.e2e.conftest import Harness

HOME = """
query Home {
  viewer {
    person {
      id
      name
      unreadMessageCount
      appointments(first: 5) {
        totalCount
        edges { cursor node {
          id start status statusText service isVideo
          source { kind municipality name }
          practitioner { id name }
          location { id name address { street city } }
        } }
        pageInfo { hasNextPage endCursor }
      }
      labResults(first: 3) { id name value unit referenceRange { low high } interpretation takenAt }
      medications { id name atc sources { kind name } }
      vaccinations { id name date sources { kind municipality } }
    }
  }
}
"""


def _person(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body.get("errors")
    person: dict[str, Any] = body["data"]["viewer"]["person"]
    return person


async def test_home_screen_draws_on_all_three_sources(harness: Harness) -> None:
    response = await harness.query("kari", HOME)
    assert response.status_code == 200
    person = _person(response.json())
    kari = harness.mocks.population.persona("kari")
    record = harness.mocks.store.record(kari.nin)

    assert person["name"] == "Kari Nordmann"
    assert kari.nin not in response.text
    # one inbox: the EHR's messages and the municipality's (kept in the EHR when
    # Trondheim is on the shared EHR; the gateway then never asks its own API)
    shared = MUNICIPALITY_BY_CODE["5001"].on_shared_ehr
    assert person["unreadMessageCount"] == sum(
        1
        for m in record.messages
        if (m.system == "ehr" or shared) and not m.read and not m.from_patient
    )
    appointments = person["appointments"]
    kinds = {e["node"]["source"]["kind"] for e in appointments["edges"]}
    assert kinds <= {"EHR", "MUNICIPAL"}
    starts = [e["node"]["start"] for e in appointments["edges"]]
    assert starts == sorted(starts)
    for edge in appointments["edges"]:
        node = edge["node"]
        assert node["practitioner"]["name"]
        assert node["location"]["name"]
    assert len(person["labResults"]) == 3
    merged = [m for m in person["medications"] if len(m["sources"]) == 2]
    assert merged, "the medicine both sources list must appear once, naming both"
    assert len({m["atc"] for m in person["medications"]}) == len(person["medications"])
    kinds_v = {s["kind"] for v in person["vaccinations"] for s in v["sources"]}
    assert kinds_v == {"NATIONAL", "MUNICIPAL"}


async def test_home_screen_makes_one_upstream_call_per_source_per_level(
    harness: Harness,
) -> None:
    harness.mocks.reset_counters()
    response = await harness.query("kari", HOME)
    _person(response.json())
    counts = harness.mocks.counts()
    # EHR: patient look-up, then one batch; national: one batch; municipal: one batch.
    assert counts["EHR"] == 2, harness.mocks.ehr.requests
    assert counts["NATIONAL"] == 1, harness.mocks.national.requests
    assert counts["MUNICIPAL 5001"] == 1, harness.mocks.municipal["5001"].requests
    assert counts["MUNICIPAL 5037"] == counts["MUNICIPAL 0301"] == 0
