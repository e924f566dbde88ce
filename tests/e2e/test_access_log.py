"""The access log: the person sees who read their data, from the portal and the EHR."""

from __future__ import annotations

from tests.e2e.conftest import Harness

LOG = """query($id: ID!) { person(id: $id) {
  accessLog(first: 50) { at actor role action categories source } } }"""
RESULTS = "query($id: ID!) { person(id: $id) { labResults(first: 1) { id } } }"


async def test_the_grantor_sees_the_proxys_reads_beside_the_ehrs_own_log(
    harness: Harness,
) -> None:
    ola = harness.app_services.ids.person_id(harness.mocks.population.persona("ola").nin)
    await harness.query("kari", RESULTS, {"id": ola}, headers={"accept-language": "en"})
    body = (await harness.query("ola", LOG, {"id": ola}, headers={"accept-language": "en"})).json()
    assert "errors" not in body, body["errors"]
    entries = body["data"]["person"]["accessLog"]
    portal = [e for e in entries if e["source"] == "GATEWAY"]
    assert {
        "actor": "Kari Nordmann",
        "role": "Power of attorney",
        "action": "read",
        "categories": ["results"],
    }.items() <= next(e for e in portal if e["actor"] == "Kari Nordmann").items()
    assert any(e["source"] == "EHR" for e in entries)
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    for nin in (harness.mocks.population.persona(p).nin for p in ("kari", "ola")):
        assert nin not in str(body)


async def test_the_proxy_does_not_see_the_grantors_log(harness: Harness) -> None:
    ola = harness.app_services.ids.person_id(harness.mocks.population.persona("ola").nin)
    body = (await harness.query("kari", LOG, {"id": ola})).json()
    assert body["data"]["person"]["accessLog"] is None
    assert body["errors"][0]["extensions"]["code"] == "CATEGORY_UNAVAILABLE"
