"""Search semantics: ids, patients, tokens, the custom patient-read, strictness, errors."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from mocks.fhir.appointments import held_items
from mocks.fhir.messages import in_ehr
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import NIN_SYSTEM, PATIENT_READ, fetch, matches, people_where

OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def ehr_appointment_ids(records: RecordStore, population: Population, key: str) -> list[str]:
    person = population.persona(key)
    return [f"{person.fhir_id}-{a.id}" for a in held_items(records, person)]


async def test_appointments_are_the_ehr_ones_only(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key in ("kari", "per"):
        person = population.persona(key)
        bundle = await fetch(client, "/Appointment", patient=person.fhir_id)
        assert matches(bundle) == ehr_appointment_ids(records, population, key)
        municipal = [a for a in records.record(person.nin).appointments if a.system != "ehr"]
        assert municipal, "every person has municipal appointments"
        shown = {f"{person.fhir_id}-{a.id}" for a in municipal} & set(matches(bundle))
        # Trondheim (kari) runs on the shared EHR, Oslo (per) does not
        assert bool(shown) == (key == "kari")


@pytest.mark.parametrize(
    ("param", "form"),
    [
        pytest.param("patient", "{id}", id="patient-bare-id"),
        pytest.param("patient", "Patient/{id}", id="patient-relative-reference"),
        pytest.param("patient", "http://ehr.test/Patient/{id}", id="patient-absolute-url"),
        pytest.param("subject", "Patient/{id}", id="subject-reference"),
        pytest.param("subject:Patient", "{id}", id="subject-with-type-modifier"),
    ],
)
async def test_patient_reference_forms_find_the_same_resources(
    client: httpx.AsyncClient, population: Population, param: str, form: str
) -> None:
    person = population.persona("kari")
    expected = matches(await fetch(client, "/Observation", patient=person.fhir_id))
    assert expected
    bundle = await fetch(client, "/Observation", **{param: form.format(id=person.fhir_id)})
    assert matches(bundle) == expected


async def test_subject_of_another_type_matches_nothing(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("kari")
    bundle = await fetch(client, "/Observation", subject=f"Group/{person.fhir_id}")
    assert bundle["total"] == 0


@pytest.mark.parametrize("type_", ["Appointment", "Communication", "Observation", "Immunization"])
async def test_unknown_patient_gives_an_empty_bundle(client: httpx.AsyncClient, type_: str) -> None:
    bundle = await fetch(client, f"/{type_}", patient="Patient/e00000000000000000000")
    assert bundle["total"] == 0
    assert "entry" not in bundle


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("/Appointment?status=booked", "patient, subject or _id", id="appointment"),
        pytest.param("/Observation", "patient, subject or _id", id="observation"),
        pytest.param("/Communication?patient-read=false", "patient, subject or _id", id="message"),
        pytest.param("/Patient?gender=female", "_id or identifier", id="patient"),
    ],
)
async def test_searching_patient_data_without_a_patient_is_too_costly(
    client: httpx.AsyncClient, url: str, expected: str
) -> None:
    outcome = await fetch(client, url, 400)
    assert outcome["issue"][0]["code"] == "too-costly"
    assert expected in outcome["issue"][0]["diagnostics"]


async def test_comma_separated_ids_across_patients(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    kari = ehr_appointment_ids(records, population, "kari")
    ola = ehr_appointment_ids(records, population, "ola")
    wanted = [kari[0], ola[-1], "e00000000000000000000-apnothere"]
    bundle = await fetch(client, "/Appointment", _id=",".join(wanted))
    assert sorted(matches(bundle)) == sorted(wanted[:2])
    # with a patient as well, the ids of other patients drop out
    kari_id = population.persona("kari").fhir_id
    bundle = await fetch(client, "/Appointment", _id=",".join(wanted), patient=kari_id)
    assert matches(bundle) == [kari[0]]


async def test_directory_search_by_id_list(client: httpx.AsyncClient) -> None:
    bundle = await fetch(client, "/Practitioner", _id="pr00003,pr00001,pr99999")
    assert sorted(matches(bundle)) == ["pr00001", "pr00003"]
    bundle = await fetch(client, "/Location", _id="loc0002")
    assert matches(bundle) == ["loc0002"]


@pytest.mark.parametrize(
    ("value", "found"),
    [
        pytest.param(f"{NIN_SYSTEM}|{{nin}}", True, id="system-and-value"),
        pytest.param("{nin}", True, id="value-only"),
        pytest.param("urn:oid:2.16.578.1.12.4.1.4.2|{nin}", False, id="d-number-system"),
        pytest.param("|{nin}", False, id="explicitly-no-system"),
        pytest.param(f"{NIN_SYSTEM}|01010100000", False, id="unknown-number"),
    ],
)
async def test_patient_by_identifier(
    client: httpx.AsyncClient, population: Population, value: str, found: bool
) -> None:
    kari = population.persona("kari")
    bundle = await fetch(client, "/Patient", identifier=value.format(nin=kari.nin))
    assert matches(bundle) == ([kari.fhir_id] if found else [])


async def test_status_comma_list_and_not_modifier(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(
        people_where(
            population,
            records,
            lambda r: len({a.status for a in r.appointments if a.system == "ehr"}) >= 3,
        )
    )
    ehr = held_items(records, person)
    by_status = {
        s: {f"{person.fhir_id}-{a.id}" for a in ehr if a.status in s}
        for s in (("cancelled", "noshow"), ("booked",))
    }
    bundle = await fetch(client, "/Appointment", patient=person.fhir_id, status="cancelled,noshow")
    assert set(matches(bundle)) == by_status[("cancelled", "noshow")]
    bundle = await fetch(client, "/Appointment", patient=person.fhir_id, **{"status:not": "booked"})
    assert (
        set(matches(bundle)) == {f"{person.fhir_id}-{a.id}" for a in ehr} - by_status[("booked",)]
    )


@pytest.mark.parametrize(
    ("category", "found"),
    [
        pytest.param("laboratory", True, id="code-only"),
        pytest.param(f"{OBS_CATEGORY}|laboratory", True, id="system-and-code"),
        pytest.param(f"{OBS_CATEGORY}|", None, id="system-only"),
        pytest.param("http://example.org/other|laboratory", False, id="other-system"),
        pytest.param("|laboratory", False, id="no-system"),
        pytest.param("social-history", False, id="other-code"),
    ],
)
async def test_category_token_forms(
    client: httpx.AsyncClient, population: Population, category: str, found: bool | None
) -> None:
    person = population.persona("ola")
    everything = await fetch(client, "/Observation", patient=person.fhir_id)
    labs = [  # ola also has vital signs (home measurements)
        e["resource"]["id"]
        for e in everything["entry"]
        if e["resource"]["category"][0]["coding"][0]["code"] == "laboratory"
    ]
    bundle = await fetch(client, "/Observation", patient=person.fhir_id, category=category)
    if found is None:  # any category of the system: labs and vital signs alike
        assert matches(bundle) == matches(everything)
    else:
        assert matches(bundle) == (labs if found else [])


async def test_observation_code_search(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("kari")
    labs = records.record(person.nin).labs
    code = labs[0].code
    bundle = await fetch(
        client, "/Observation", patient=person.fhir_id, code=f"http://loinc.org|{code}"
    )
    assert set(matches(bundle)) == {
        f"{person.fhir_id}-{lab.id}" for lab in labs if lab.code == code
    }
    assert all(e["resource"]["code"]["coding"][0]["code"] == code for e in bundle["entry"])


async def test_patient_read_follows_the_message_read_flag(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(
        people_where(
            population,
            records,
            lambda r: len({m.read for m in r.messages if m.system == "ehr"}) == 2,
        )
    )
    ehr = [m for m in records.record(person.nin).messages if in_ehr(m, person)]
    unread = {f"{person.fhir_id}-{m.id}" for m in ehr if not m.read}
    read = {f"{person.fhir_id}-{m.id}" for m in ehr if m.read}
    for value, expected in (("false", unread), ("true", read), ("true,false", unread | read)):
        bundle = await fetch(
            client, "/Communication", patient=person.fhir_id, **{"patient-read": value}
        )
        assert set(matches(bundle)) == expected, value
        for entry in bundle["entry"]:
            flags = [
                x["valueBoolean"]
                for x in entry["resource"]["extension"]
                if x["url"] == PATIENT_READ
            ]
            assert flags == [entry["resource"]["id"] in read]
    counted = await fetch(
        client,
        "/Communication",
        patient=person.fhir_id,
        _summary="count",
        **{"patient-read": "false"},
    )
    assert counted["total"] == len(unread)
    assert "entry" not in counted


async def test_unknown_parameters_are_ignored_unless_handling_is_strict(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("kari")
    plain = await fetch(client, "/Appointment", patient=person.fhir_id)
    lenient = await fetch(client, "/Appointment", patient=person.fhir_id, colour="blue")
    assert matches(lenient) == matches(plain)
    for params in ({"colour": "blue"}, {"_include": "Appointment:nothing"}, {"code": "x"}):
        response = await client.get(
            "/Appointment",
            params={"patient": person.fhir_id, **params},
            headers={"Prefer": "return=representation; handling=strict"},
        )
        assert response.status_code == 400
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        named = next(iter(params.values())) if "_include" in params else next(iter(params))
        assert f"'{named}'" in outcome["issue"][0]["diagnostics"]
    strict_ok = await client.get(
        "/Appointment", params={"patient": person.fhir_id}, headers={"Prefer": "handling=strict"}
    )
    assert matches(strict_ok.json()) == matches(plain)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        pytest.param("date", "2026-13-01", id="bad-date"),
        pytest.param("date", "xx2026", id="bad-date-prefix"),
        pytest.param("date:missing", "true", id="date-modifier"),
        pytest.param("_count", "abc", id="count-not-a-number"),
        pytest.param("_count", "-1", id="count-negative"),
        pytest.param("_count", "2.5", id="count-fraction"),
        pytest.param("_sort", "status", id="sort-unsupported-key"),
        pytest.param("_summary", "everything", id="summary-unknown"),
        pytest.param("_elements", "status;drop", id="elements-malformed"),
        pytest.param("_include", "Appointment", id="include-without-parameter"),
        pytest.param("_page", "not-a-token", id="page-token-forged"),
        pytest.param("_total", "lots", id="total-unknown"),
        pytest.param("status:exact", "booked", id="token-modifier-unsupported"),
        pytest.param("practitioner:identifier", "x|y", id="reference-modifier-unsupported"),
    ],
)
async def test_malformed_parameters_are_400_naming_the_parameter(
    client: httpx.AsyncClient, population: Population, param: str, value: str
) -> None:
    person = population.persona("kari")
    outcome = await fetch(client, "/Appointment", 400, patient=person.fhir_id, **{param: value})
    issue = outcome["issue"][0]
    assert issue["severity"] == "error"
    assert issue["code"] == "invalid"
    assert f"'{param}'" in issue["diagnostics"]
    assert value not in issue["diagnostics"]


async def test_diagnostics_never_echo_identity_numbers(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari")
    for url, status in (
        (f"/Patient/{kari.nin}", 404),
        (f"/Patient?identifier={NIN_SYSTEM}|{kari.nin}&_count=x{kari.nin}", 400),
        (f"/Patient?identifier:{kari.nin}=1", 400),
        (f"/Appointment?patient={kari.fhir_id}&date={kari.nin}", 400),
        (f"/{kari.nin}?patient={kari.fhir_id}", 404),
    ):
        response = await client.get(url, headers={"Prefer": "handling=strict"})
        assert response.status_code == status, url
        assert response.json()["resourceType"] == "OperationOutcome"
        assert kari.nin not in response.text, url


async def test_post_search_with_a_form_body_equals_get(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("ida")
    params = {"patient": person.fhir_id, "_sort": "-date", "_include": "Appointment:actor"}
    got = await fetch(client, "/Appointment", **params)
    response = await client.post("/Appointment/_search", data=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    posted = response.json()
    assert [e["fullUrl"] for e in posted["entry"]] == [e["fullUrl"] for e in got["entry"]]
    refused = await client.post(
        "/Appointment/_search", content=b"{}", headers={"content-type": "application/json"}
    )
    assert refused.status_code == 415
    assert refused.json()["resourceType"] == "OperationOutcome"


async def test_sort_by_date_both_ways(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(
        people_where(
            population,
            records,
            lambda r: (
                sum(m.system == "ehr" for m in r.messages) >= 2
                and len({lab.taken_at for lab in r.labs}) >= 2
                and sum(a.system == "ehr" for a in r.appointments) >= 2
            ),
        )
    )
    for type_, field in (
        ("Appointment", "start"),
        ("Observation", "effectiveDateTime"),
        ("Communication", "sent"),
    ):
        ascending = await fetch(client, f"/{type_}", patient=person.fhir_id, _sort="date")
        descending = await fetch(client, f"/{type_}", patient=person.fhir_id, _sort="-date")
        up = [e["resource"][field] for e in ascending["entry"]]
        down = [e["resource"][field] for e in descending["entry"]]
        assert len(up) >= 2, type_
        assert sorted(up, key=_instant) == up, type_
        assert sorted(down, key=_instant, reverse=True) == down, type_
        assert set(matches(ascending)) == set(matches(descending))


def _instant(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()
