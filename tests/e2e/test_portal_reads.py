"""The regular GP, critical information and municipal services, end to end, per basis."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

READS = """
query($id: ID!) {
  person(id: $id) {
    basis
    name
    gp { name hprNumber office { name address { street postalCode city } phone } }
    criticalInformation { id type text registeredOn }
    municipalServices {
      id type typeText status statusText decidedOn source { kind municipality name }
    }
  }
}
"""
FIELDS = {
    "gp": "gp",
    "critical_info": "criticalInformation",
    "municipal_services": "municipalServices",
}


async def read(harness: Harness, viewer: str, target: str, **headers: str) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target)}
    response = await harness.query(viewer, READS, variables, headers=headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def refusals(body: dict[str, Any]) -> dict[str, str]:
    return {
        e["extensions"]["category"]: e["extensions"]["reason"]
        for e in body.get("errors", [])
        if e["extensions"]["code"] == "CATEGORY_UNAVAILABLE"
    }


async def test_kari_sees_her_own_gp_and_home_care(harness: Harness) -> None:
    body = await read(harness, "kari", "kari", **{"accept-language": "en"})
    assert "errors" not in body, body.get("errors")
    person = body["data"]["person"]
    assert person["basis"] == "SELF"
    assert person["gp"] == {
        "name": "Dag Holm",
        "hprNumber": "9100130",
        "office": {
            "name": "Trondheim legekontor",
            "address": {"street": "Prinsens gate 29", "postalCode": "", "city": "Trondheim"},
            "phone": "+47 73 75 35 22",
        },
    }
    assert person["criticalInformation"] == []
    [service] = person["municipalServices"]
    assert service["type"] == "HOME_NURSING"
    assert service["typeText"] == "Home nursing"
    assert (service["status"], service["statusText"]) == ("GRANTED", "Granted")
    assert service["decidedOn"] == "2023-11-02"
    assert service["source"] == {"kind": "MUNICIPAL", "municipality": "5001", "name": "Trondheim"}
    home = harness.mocks.population.persona("kari").address
    assert home.street not in str(body)  # the person's own address is never shown


async def test_texts_follow_the_callers_language(harness: Harness) -> None:
    nb = (await read(harness, "kari", "kari"))["data"]["person"]["municipalServices"][0]
    nn = (await read(harness, "kari", "kari", **{"accept-language": "nn"}))["data"]["person"]
    assert (nb["typeText"], nb["statusText"]) == ("Hjemmesykepleie", "Innvilget")
    assert (nn["municipalServices"][0]["typeText"]) == "Heimesjukepleie"


async def test_parent_of_a_young_child_sees_all_three(harness: Harness) -> None:
    body = await read(harness, "kari", "emil")
    assert "errors" not in body, body.get("errors")
    person = body["data"]["person"]
    assert person["basis"] == "PARENT"
    assert person["gp"]["name"]
    assert [(c["type"], c["text"]) for c in person["criticalInformation"]] == [
        ("ALLERGY", "Penicillinallergi, anafylaktisk reaksjon")
    ]
    assert person["municipalServices"] == []


async def test_parent_of_a_teenager_sees_gp_and_services_but_not_critical_info(
    harness: Harness,
) -> None:
    body = await read(harness, "kari", "ida")
    person = body["data"]["person"]
    assert person["basis"] == "PARENT"
    assert person["gp"]["hprNumber"]
    assert [s["type"] for s in person["municipalServices"]] == ["HOME_NURSING"]
    assert person["criticalInformation"] is None
    assert refusals(body) == {"critical_info": "CHILD_12_15"}
    [error] = body["errors"]
    assert error["path"] == ["person", "criticalInformation"]


async def test_full_proxy_sees_all_three(harness: Harness) -> None:
    body = await read(harness, "kari", "ola")
    assert "errors" not in body, body.get("errors")
    person = body["data"]["person"]
    assert person["basis"] == "PROXY"
    assert person["gp"]["office"]["name"] == "Levanger legekontor"
    assert [c["type"] for c in person["criticalInformation"]] == ["ALLERGY"]
    assert person["municipalServices"] == []


async def test_communicate_only_proxy_is_refused_all_three(harness: Harness) -> None:
    harness.mocks.reset_counters()
    body = await read(harness, "nils", "solveig")
    person = body["data"]["person"]
    assert person["basis"] == "PROXY"
    assert person["name"] == "Solveig Larsen"
    assert (person["gp"], person["criticalInformation"], person["municipalServices"]) == (
        None,
        None,
        None,
    )
    assert refusals(body) == dict.fromkeys(FIELDS, "PROXY_COMMUNICATE_ONLY")
    assert harness.mocks.counts().get("MUNICIPAL 0301", 0) == 0  # refused before asking


async def test_national_down_costs_the_national_fields_and_the_rest_loads(
    harness: Harness,
) -> None:
    harness.mocks.national.faults.error_rate = 1.0
    query = """
    { viewer { person {
        gp { name } criticalInformation { id } labResults(first: 2) { id } messages { totalCount }
    } } }
    """
    body = (await harness.query("kari", query)).json()
    person = body["data"]["viewer"]["person"]
    assert person["gp"] is None
    assert person["criticalInformation"] is None
    assert person["labResults"]
    assert person["messages"]["totalCount"] >= 0
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    # messages still load from the EHR; whether the home municipality keeps more of them
    # in its own system needs the registry, so the field reports the missing part
    assert set(errors) == {
        ("viewer", "person", "gp"),
        ("viewer", "person", "criticalInformation"),
        ("viewer", "person", "messages"),
    }
    assert {(e["code"], e["source"]) for e in errors.values()} == {
        ("UPSTREAM_UNAVAILABLE", "NATIONAL")
    }
    kari = harness.mocks.population.persona("kari").nin
    assert kari not in str(body)


async def test_municipality_down_costs_only_municipal_services(harness: Harness) -> None:
    harness.mocks.municipal["5001"].faults.error_rate = 1.0
    body = await read(harness, "kari", "kari")
    person = body["data"]["person"]
    assert person["gp"]["name"] == "Dag Holm"
    assert person["criticalInformation"] == []
    assert person["municipalServices"] is None
    assert [(e["path"], e["extensions"]["source"]) for e in body["errors"]] == [
        (["person", "municipalServices"], "MUNICIPAL 5001")
    ]


async def test_the_three_reads_batch_with_the_rest_of_the_screen(harness: Harness) -> None:
    harness.mocks.reset_counters()
    body = await read(harness, "kari", "kari")
    assert "errors" not in body
    counts = harness.mocks.counts()
    # person, GP and critical information in one national batch; then the services
    assert counts["NATIONAL"] == 1, harness.mocks.national.requests
    assert counts["MUNICIPAL 5001"] == 1


async def test_the_reads_are_audited_with_their_references(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = await read(harness, "kari", "emil")
    assert "errors" not in body
    [record] = [r async for r in audit.records()][before:]
    entry = record.entry
    assert entry.basis == "PARENT"
    assert set(entry.categories) == {"identity", "gp", "critical_info", "municipal_services"}
    assert "NATIONAL/GP/" + body["data"]["person"]["gp"]["hprNumber"] in entry.resources
    assert any(r.startswith("NATIONAL/CriticalInformation/ci") for r in entry.resources)
    denied = await read(harness, "nils", "solveig")
    assert refusals(denied)
    later = [r.entry async for r in audit.records()][before + 1 :]
    denied_categories = {c for e in later if e.outcome == "denied" for c in e.categories}
    assert denied_categories == set(FIELDS)
