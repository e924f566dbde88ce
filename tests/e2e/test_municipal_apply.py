"""applyForMunicipalService: who may apply, validation in the caller's language, offered
services, idempotency (one application upstream, across replicas too), the audit record
and the next read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import Harness
from tests.e2e.municipal_support import PARTNER, apply, gateway_without, gateways, person_id

LIST = """query($id: ID!) { person(id: $id) {
  municipalApplications(first: 50) { totalCount edges { node {
    id service status statusText description wishedStart submittedAt expectedDecisionOn
  } } } } }"""


async def listed(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    variables = {"id": await person_id(harness, target)}
    body = (await harness.query(viewer, LIST, variables)).json()
    assert "errors" not in body, body["errors"]
    return [e["node"] for e in body["data"]["person"]["municipalApplications"]["edges"]]


def errors(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def fields(harness: Harness, target: str, key: str, **more: Any) -> dict[str, Any]:
    base = {
        "personId": await person_id(harness, target),
        "service": "SAFETY_ALARM",
        "description": "Har falt hjemme to ganger i høst.",
        "idempotencyKey": key,
    }
    return base | more


async def test_an_application_is_received_and_in_the_next_read(harness: Harness) -> None:
    wished = (REFERENCE_DAY + dt.timedelta(days=7)).isoformat()
    sent = await fields(
        harness, "kari", "apply-self-0001", wishedStart=wished, contactPhone="+47 912 34 567"
    )
    payload = await apply(harness, "kari", {"accept-language": "en"}, **sent)
    assert payload["userErrors"] == []
    application = payload["application"]
    assert (application["service"], application["status"]) == ("SAFETY_ALARM", "RECEIVED")
    assert application["statusText"] == "Received"
    assert application["wishedStart"] == wished
    assert application["expectedDecisionOn"] == (REFERENCE_DAY + dt.timedelta(days=28)).isoformat()
    assert application["source"]["municipality"] == "5001"
    found = await listed(harness, "kari", "kari")
    assert found[0]["id"] == application["id"]
    assert found[0]["status"] == "RECEIVED"
    assert found[0]["description"] == sent["description"]
    assert len(found) == 4


async def test_a_retry_applies_once_and_a_reused_key_is_refused(harness: Harness) -> None:
    sent = await fields(harness, "kari", "apply-retry-0001")
    first = await apply(harness, "kari", **sent)
    again = await apply(harness, "kari", **sent)
    assert again == first
    found = await listed(harness, "kari", "kari")
    assert [a["description"] for a in found].count(sent["description"]) == 1
    other = await apply(harness, "kari", **(sent | {"description": "Noe annet."}))
    assert other["application"] is None
    assert errors(other) == [(["idempotencyKey"], "KEY_REUSED")]
    assert len(await listed(harness, "kari", "kari")) == len(found)


async def test_a_retry_through_another_replica_applies_once() -> None:
    async with gateways(2) as (one, two):
        sent = await fields(one, "kari", "apply-replica-01")
        first = await apply(one, "kari", **sent)
        again = await apply(two, "kari", **sent)
        assert first["userErrors"] == again["userErrors"] == []
        assert again["application"]["id"] == first["application"]["id"]
        found = await listed(one, "kari", "kari")
        assert [a["description"] for a in found].count(sent["description"]) == 1


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "This field is required.",
                "The date must not be in the past.",
                "Write a Norwegian phone number: 8 digits, optionally with +47 first.",
                "The value is not valid.",
            ],
        ),
        (
            "nn",
            [
                "Feltet må fyllast ut.",
                "Datoen kan ikkje vere tilbake i tid.",
                "Skriv eit norsk telefonnummer: 8 siffer, gjerne med +47 framfor.",
                "Verdien er ugyldig.",
            ],
        ),
    ],
)
async def test_invalid_input_names_each_field_in_the_callers_language(
    harness: Harness, language: str, texts: list[str]
) -> None:
    harness.mocks.reset_counters()
    yesterday = (REFERENCE_DAY - dt.timedelta(days=1)).isoformat()
    sent = await fields(
        harness, "kari", "short", description=" ", wishedStart=yesterday, contactPhone="1234"
    )
    payload = await apply(harness, "kari", {"accept-language": language}, **sent)
    assert payload["application"] is None
    assert errors(payload) == [
        (["description"], "REQUIRED"),
        (["wishedStart"], "IN_THE_PAST"),
        (["contactPhone"], "INVALID_PHONE"),
        (["idempotencyKey"], "INVALID"),
    ]
    assert [e["message"] for e in payload["userErrors"]] == texts
    assert harness.mocks.counts()["MUNICIPAL 5001"] == 0  # nothing sent


async def test_a_too_long_description(harness: Harness) -> None:
    sent = await fields(harness, "kari", "apply-long-0001", description="x" * 2001)
    payload = await apply(harness, "kari", {"accept-language": "en"}, **sent)
    assert errors(payload) == [(["description"], "TOO_LONG")]


async def test_a_service_the_municipality_does_not_offer(harness: Harness) -> None:
    sent = await fields(harness, "kari", "apply-meals-001", service="MEAL_DELIVERY")
    payload = await apply(harness, "kari", {"accept-language": "en"}, **sent)
    assert errors(payload) == [(["service"], "SERVICE_NOT_OFFERED")]
    assert payload["userErrors"][0]["message"] == (
        "The municipality does not take applications for this service."
    )
    # Levanger (ola's municipality) offers no day centre, Trondheim does
    levanger = await fields(harness, "ola", "apply-day-0001", service="DAY_CENTRE")
    assert errors(await apply(harness, "kari", **levanger)) == [
        (["service"], "SERVICE_NOT_OFFERED")
    ]
    unknown = await fields(harness, "kari", "apply-unknown-1", service="UNKNOWN")
    assert errors(await apply(harness, "kari", **unknown)) == [(["service"], "INVALID")]


@pytest.mark.parametrize(
    ("viewer", "target", "allowed"),
    [
        pytest.param("kari", "emil", True, id="parent-of-8-applies-for-respite-care"),
        pytest.param("kari", "ida", False, id="parent-of-14-may-not"),
        pytest.param("kari", "ola", True, id="full-proxy"),
        pytest.param("nils", "berit", False, id="standard-proxy-may-not"),
        pytest.param("nils", "arne", False, id="read-only-proxy-may-not"),
        pytest.param("nils", "solveig", False, id="communicate-only-may-not"),
        pytest.param("nils", "gunnar", False, id="expired-full-proxy"),
        pytest.param("ida", "ida", False, id="youth-may-not"),
    ],
)
async def test_who_may_apply(harness: Harness, viewer: str, target: str, allowed: bool) -> None:
    sent = await fields(harness, target, f"apply-{viewer}-{target}", service="RESPITE_CARE")
    payload = await apply(harness, viewer, **sent)
    if not allowed:
        assert payload["application"] is None
        assert errors(payload)[0][0] == ["personId"]
        assert errors(payload)[0][1] in ("CATEGORY_UNAVAILABLE", "FORBIDDEN")
        return
    assert payload["userErrors"] == []
    assert payload["application"]["status"] == "RECEIVED"
    assert (await listed(harness, viewer, target))[0]["id"] == payload["application"]["id"]


async def test_partner_needs_the_write_scope(harness: Harness) -> None:
    sent = await fields(harness, "kari", "apply-partner-1")
    read = {"scope": "helsegraf:municipal_services.read", **PARTNER}
    refused = await apply(harness, "kari", claims=read, **sent)
    assert errors(refused) == [(["personId"], "CATEGORY_UNAVAILABLE")]
    scopes = "helsegraf:municipal_services.read helsegraf:municipal_services.write"
    allowed = await apply(harness, "kari", claims={"scope": scopes, **PARTNER}, **sent)
    assert allowed["userErrors"] == []
    assert allowed["application"]["status"] == "RECEIVED"


async def test_the_write_is_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    sent = await fields(harness, "emil", "apply-audit-001", service="RESPITE_CARE")
    payload = await apply(harness, "kari", **sent)
    application_id = payload["application"]["id"]
    assert application_id
    records = [r.entry async for r in audit.records()][before:]
    writes = [e for e in records if e.action == "write"]
    assert len(writes) == 1
    entry = writes[0]
    assert (entry.basis, entry.outcome, entry.categories) == (
        "PARENT",
        "success",
        ("municipal_services",),
    )
    assert len(entry.resources) == 1
    assert entry.resources[0].startswith("MUNICIPAL 5001/Application/ap-5001-")


async def test_the_municipality_down_is_an_error_and_nothing_is_remembered(
    harness: Harness,
) -> None:
    harness.mocks.municipal["5001"].faults.error_rate = 1.0
    sent = await fields(harness, "kari", "apply-down-0001")
    body = (await harness.query("kari", APPLY_DOC, {"input": sent})).json()
    assert body["data"]["applyForMunicipalService"] is None
    [error] = body["errors"]
    assert error["extensions"]["source"] == "MUNICIPAL 5001"
    harness.mocks.municipal["5001"].faults.error_rate = 0.0
    retried = await apply(harness, "kari", **sent)  # the same key works once it is back
    assert retried["application"]["status"] == "RECEIVED"


async def test_a_person_whose_municipality_the_gateway_does_not_serve() -> None:
    async with gateway_without("5037") as harness:
        sent = await fields(harness, "ola", "apply-nomun-001")
        payload = await apply(harness, "kari", {"accept-language": "en"}, **sent)
        assert errors(payload) == [(["personId"], "NO_MUNICIPALITY")]


APPLY_DOC = """
mutation($input: ApplyForMunicipalServiceInput!) {
  applyForMunicipalService(input: $input) { application { id } userErrors { code } }
}
"""
