"""Parsing questionnaires, measurements, programmes and pregnancy care from FHIR R4."""

from __future__ import annotations

import datetime as dt

from mocks.fhir import careplans, questionnaires
from mocks.fhir import questionnaire_forms as forms
from mocks.population import Population
from sources import ehr_care, ehr_questionnaires, fhir_questionnaires


def test_forms_tasks_and_answers(population: Population) -> None:
    general = forms.FORMS["q-general-health"]
    form = fhir_questionnaires.form(forms.questionnaire(general, population.today).resource)
    assert form.kind == "general"
    health = next(q for q in form.questions if q.link_id == "health")
    assert health.type == "choice"
    assert [o.code for o in health.options] == ["good", "fair", "poor"]
    assert next(q for q in form.questions if q.link_id == "allergies").max_length == 500

    kari = population.persona("kari")
    item = questionnaires.Assignment(
        "follow-up",
        forms.FORMS["q-follow-up"],
        population.today,
        dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC),
        answered=dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC),
        reviewed=None,
    )
    task = questionnaires.task(item, kari).resource
    answers = fhir_questionnaires.response(questionnaires.response(item, kari).resource)
    assert answers.reported_by_patient
    assert not answers.confirmed
    follow = fhir_questionnaires.form(
        forms.questionnaire(forms.FORMS["q-follow-up"], population.today).resource
    )
    assigned = fhir_questionnaires.assigned(task, {follow.id: follow}, {answers.id: answers})
    assert assigned.status == "completed"
    assert assigned.response == answers
    assert assigned.due == population.today
    assert assigned.security.sensitivity == frozenset()


def test_sensitive_task_carries_its_label(population: Population) -> None:
    kari = population.persona("kari")
    item = questionnaires.Assignment(
        "mental",
        forms.FORMS["q-mental-health"],
        population.today,
        dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC),
    )
    form = fhir_questionnaires.form(
        forms.questionnaire(forms.FORMS["q-mental-health"], population.today).resource
    )
    assigned = fhir_questionnaires.assigned(
        questionnaires.task(item, kari).resource, {form.id: form}, {}
    )
    assert assigned.security.sensitivity == frozenset({"PSY"})
    assert assigned.response is None


def test_measurements_and_programmes(population: Population) -> None:
    ola = population.persona("ola")
    at = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    reported = careplans.vital(ola, "k1", "blood-pressure", (140.0, 90.0), at, None)
    parsed = ehr_care.measurement(reported.resource)
    assert parsed is not None
    assert (parsed.kind, parsed.systolic, parsed.diastolic, parsed.value) == (
        "blood-pressure",
        140.0,
        90.0,
        None,
    )
    assert parsed.reported_by_patient
    assert not parsed.confirmed
    clinic = ehr_care.measurement(
        careplans.vital(ola, "k2", "weight", (80.0,), at, "pr00001").resource
    )
    assert clinic is not None
    assert (clinic.kind, clinic.value, clinic.unit) == ("weight", 80.0, "kg")
    assert not clinic.reported_by_patient
    assert clinic.confirmed
    unknown = {
        **reported.resource,
        "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]},
    }
    assert ehr_care.measurement(unknown) is None
    from mocks.records import RecordStore

    catalogue = RecordStore(population).catalogue
    (plan,) = careplans.careplans(ola, catalogue, population.today, population.seed)
    programme = ehr_care.programme(plan.resource)
    assert programme.title == "Oppfølging av hjertesvikt"
    assert [a.kind for a in programme.activities] == ["weight", "pulse", "spo2"]
    assert programme.activities[2].period_unit == "wk"
    assert programme.contact


async def test_answering_completes_the_task_and_a_race_is_a_conflict(
    population: Population,
) -> None:
    import httpx
    import pytest

    from mocks.fhir import create_fhir_app
    from mocks.records import RecordStore
    from sources.ehr import EhrClient
    from sources.errors import UpstreamConflict
    from sources.upstream import Upstream

    store = RecordStore(population)
    app = create_fhir_app(store)

    def ehr() -> EhrClient:
        transport = httpx.ASGITransport(app=app)
        return EhrClient(Upstream("EHR", "http://ehr.test", timeout_s=5, transport=transport))

    patient = population.persona("per").fhir_id
    now = store.now()  # the mock's clock: answers from its future are refused
    found = await ehr().questionnaires.of(patient)
    item = next(q for q in found if q.status == "requested" and q.form.id == "q-general-health")
    good = ehr_questionnaires.Option(fhir_questionnaires.PROFILE + "CodeSystem/answer", "good", "")
    answers = [
        ehr_questionnaires.NewAnswer("smoker", False),
        ehr_questionnaires.NewAnswer("height", 180),
        ehr_questionnaires.NewAnswer("health", good),
    ]
    done = await ehr().questionnaires.answer(patient, item, answers, idempotency="k-1", now=now)
    assert done.status == "completed"
    assert done.response is not None
    assert done.response.reported_by_patient
    retry = await ehr().questionnaires.answer(patient, item, answers, idempotency="k-1", now=now)
    assert retry.response == done.response
    with pytest.raises(UpstreamConflict):
        await ehr().questionnaires.answer(patient, item, answers, idempotency="k-2", now=now)
