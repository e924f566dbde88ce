"""Follow-up programmes and home measurements end to end: bases, filters, submitting."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.conftest import NOON, Harness
from tests.e2e.test_matrix import person_id

FOLLOW_UP = (OPERATIONS_DIR / "follow_up.graphql").read_text(encoding="utf-8")
SUBMIT = """
mutation($input: SubmitMeasurementInput!) {
  submitMeasurement(input: $input) {
    measurement { id type systolic diastolic value unit origin confirmation programmeId }
    userErrors { field code message }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on FollowUpProgramme { title } } }"


async def follow_up(
    harness: Harness, viewer: str, target: str, filter: dict[str, Any] | None = None
) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), "filter": filter}
    body: dict[str, Any] = (await harness.query(viewer, FOLLOW_UP, variables)).json()
    return body


def measurements(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["measurements"]["edges"]]


def submit(person: str, key: str, **fields: Any) -> dict[str, Any]:
    values = {"type": "BLOOD_PRESSURE", "systolic": 135, "diastolic": 85}
    values |= {"measuredAt": NOON.isoformat(), **fields}
    return {"input": {"personId": person, "idempotencyKey": key, **values}}


async def test_own_programme_and_measurements(harness: Harness) -> None:
    body = await follow_up(harness, "kari", "kari")
    assert "errors" not in body, body.get("errors")
    (programme,) = body["data"]["person"]["followUpProgrammes"]
    assert programme["status"] == "ACTIVE"
    assert programme["contactName"]
    assert programme["activities"][0]["type"] == "BLOOD_PRESSURE"
    assert programme["activities"][0]["times"] == 2
    found = measurements(body)
    assert {m["origin"] for m in found} == {"REPORTED_BY_PATIENT", "CLINICIAN"}
    clinic = next(m for m in found if m["origin"] == "CLINICIAN")
    assert clinic["confirmation"] == "CONFIRMED"
    times = [m["measuredAt"] for m in found]
    assert times == sorted(times, reverse=True)
    again = (await harness.query("kari", NODE, {"id": programme["id"]})).json()
    assert again["data"]["node"]["title"] == programme["title"]


async def test_filters_by_type_and_time(harness: Harness) -> None:
    everything = measurements(await follow_up(harness, "kari", "ola"))
    weights = measurements(await follow_up(harness, "kari", "ola", {"type": "WEIGHT"}))
    assert weights
    assert {m["type"] for m in weights} == {"WEIGHT"}
    assert len(weights) < len(everything)
    recent = measurements(
        await follow_up(harness, "kari", "ola", {"from": "2026-11-15T00:00:00+01:00"})
    )
    assert recent
    assert all(m["measuredAt"] >= "2026-11-15" for m in recent)
    assert len(recent) < len(everything)


async def test_bases(harness: Harness) -> None:
    for viewer, target in (("kari", "emil"), ("kari", "ola"), ("nils", "berit"), ("nils", "arne")):
        body = await follow_up(harness, viewer, target)
        assert "errors" not in body, (viewer, target, body.get("errors"))
    for viewer, target, reason in (
        ("kari", "ida", "CHILD_12_15"),
        ("nils", "solveig", "PROXY_COMMUNICATE_ONLY"),
    ):
        body = await follow_up(harness, viewer, target)
        assert body["data"]["person"]["measurements"] is None
        assert body["data"]["person"]["followUpProgrammes"] is None
        assert {e["extensions"]["reason"] for e in body["errors"]} == {reason}


async def test_submitted_measurement_shows_next_read_once_per_key(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    before = await follow_up(harness, "kari", "kari")
    programme = before["data"]["person"]["followUpProgrammes"][0]["id"]
    total = before["data"]["person"]["measurements"]["totalCount"]
    variables = submit(kari, "measure-key-1", programmeId=programme)
    first = (await harness.query("kari", SUBMIT, variables)).json()
    payload = first["data"]["submitMeasurement"]
    assert payload["userErrors"] == []
    assert payload["measurement"]["origin"] == "REPORTED_BY_PATIENT"
    assert payload["measurement"]["confirmation"] == "UNCONFIRMED"
    assert payload["measurement"]["programmeId"] == programme
    again = (await harness.query("kari", SUBMIT, variables)).json()
    assert again["data"]["submitMeasurement"] == payload
    after = await follow_up(harness, "kari", "kari")
    assert after["data"]["person"]["measurements"]["totalCount"] == total + 1
    newest = measurements(after)[0]
    assert newest["id"] == payload["measurement"]["id"]
    assert (newest["systolic"], newest["diastolic"]) == (135, 85)
    reused = submit(kari, "measure-key-1", systolic=140)
    body = (await harness.query("kari", SUBMIT, reused)).json()
    assert body["data"]["submitMeasurement"]["userErrors"][0]["code"] == "KEY_REUSED"


async def test_ranges_units_and_time_in_the_callers_language(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    bad = submit(
        kari, "measure-bad-1", systolic=301, diastolic=None, measuredAt="2099-01-01T08:00:00+01:00"
    )
    body = (await harness.query("kari", SUBMIT, bad, headers={"accept-language": "en"})).json()
    errors = body["data"]["submitMeasurement"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        (["systolic"], "OUT_OF_RANGE"),
        (["diastolic"], "REQUIRED"),
        (["measuredAt"], "IN_FUTURE"),
    ]
    assert errors[0]["message"] == "The value is outside what can be measured."
    wrong = submit(
        kari, "measure-bad-2", type="WEIGHT", systolic=None, diastolic=None, value=80, unit="lb"
    )
    body = (await harness.query("kari", SUBMIT, wrong, headers={"accept-language": "nn"})).json()
    errors = body["data"]["submitMeasurement"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["unit"], "INVALID")]
    other = submit(
        kari, "measure-bad-3", type="FUNDAL_HEIGHT", systolic=None, diastolic=None, value=20
    )
    body = (await harness.query("kari", SUBMIT, other)).json()
    assert body["data"]["submitMeasurement"]["userErrors"][0]["field"] == ["type"]


async def test_who_may_submit(harness: Harness) -> None:
    cases: list[tuple[str, str, list[tuple[list[str], str]]]] = [
        ("kari", "emil", []),
        ("kari", "ola", []),
    ]
    cases += [
        ("kari", "ida", [(["personId"], "CATEGORY_UNAVAILABLE")]),
        ("nils", "berit", [(["personId"], "CATEGORY_UNAVAILABLE")]),
        ("nils", "arne", [(["personId"], "CATEGORY_UNAVAILABLE")]),
    ]
    for n, (viewer, target, expected) in enumerate(cases):
        variables = submit(await person_id(harness, target), f"measure-who-{n}")
        body = (await harness.query(viewer, SUBMIT, variables)).json()
        errors = body["data"]["submitMeasurement"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == expected, (viewer, target)


async def _persisted(harness: Harness, scope: str) -> dict[str, Any]:
    token = harness.token("kari", act={"client_id": "partner-x"}, scope=scope)
    response = await harness.client.post(
        "/graphql",
        json={
            "documentId": f"sha256:{document_hash(FOLLOW_UP)}",
            "variables": {"id": await person_id(harness, "kari")},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_partner_scopes(harness: Harness) -> None:
    allowed = await _persisted(harness, "helsegraf:monitoring.read")
    assert "errors" not in allowed, allowed.get("errors")
    assert measurements(allowed)
    denied = await _persisted(harness, "helsegraf:results.read")
    assert denied["data"]["person"]["measurements"] is None
    assert {e["extensions"]["code"] for e in denied["errors"]} == {"CATEGORY_UNAVAILABLE"}


async def test_submission_is_audited_as_a_write(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = (await harness.query("kari", SUBMIT, submit(kari, "measure-audit-1"))).json()
    assert body["data"]["submitMeasurement"]["userErrors"] == []
    writes = [
        r.entry async for r in audit.records() if r.seq > before and r.entry.action == "write"
    ]
    assert len(writes) == 1
    assert writes[0].categories == ("monitoring",)
    assert writes[0].resources[0].startswith("EHR/Observation/")


async def test_measurement_node_is_refetched_under_the_same_rules(harness: Harness) -> None:
    [first, *_] = measurements(await follow_up(harness, "kari", "emil"))
    query = "query($id: ID!) { node(id: $id) { id ... on Measurement { type value } } }"
    body = (await harness.query("kari", query, {"id": first["id"]})).json()
    assert body["data"]["node"] == {
        "id": first["id"],
        "type": first["type"],
        "value": first["value"],
    }
    # emil's measurement as frode (no parental responsibility): null, FORBIDDEN
    denied = (await harness.query("frode", query, {"id": first["id"]})).json()
    assert denied["data"]["node"] is None
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
