"""Questionnaires end to end: lists per basis, hidden sensitive forms, answering."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

LIST = """
query($id: ID!, $filter: QuestionnaireFilter) {
  person(id: $id) {
    questionnaires(first: 10, filter: $filter) {
      totalCount
      edges { node { id title kind kindText state dueDate appointmentId
        questions { linkId type required maxLength }
        answers { answeredAt origin confirmation confirmationText answers { linkId value text } }
      } }
    }
  }
}
"""
ANSWER = """
mutation($input: AnswerQuestionnaireInput!) {
  answerQuestionnaire(input: $input) {
    questionnaire { id state answers { origin confirmation answers { linkId value } } }
    userErrors { field code message }
  }
}
"""
OPTIONS = """
query($id: ID!) {
  node(id: $id) { ... on Questionnaire { questions { linkId options { code text } } } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Questionnaire { title state } } }"


async def listed(
    harness: Harness, viewer: str, target: str, filter: dict[str, Any] | None = None
) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target), "filter": filter}
    body: dict[str, Any] = (await harness.query(viewer, LIST, variables)).json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["questionnaires"]["edges"]]


async def form(harness: Harness, viewer: str, target: str, title: str) -> dict[str, Any]:
    return next(n for n in nodes(await listed(harness, viewer, target)) if n["title"] == title)


GENERAL = "Egenerklæring om helse"
GOOD = [
    {"linkId": "smoker", "value": "false"},
    {"linkId": "height", "value": "172"},
    {"linkId": "weight", "value": "70.5"},
    {"linkId": "health", "value": "good"},
    {"linkId": "last-checkup", "value": "2025-03-01"},
]


def answer_input(person: str, questionnaire: str, answers: Any, key: str) -> dict[str, Any]:
    return {
        "input": {
            "personId": person,
            "questionnaireId": questionnaire,
            "answers": answers,
            "idempotencyKey": key,
        }
    }


async def test_own_list_has_every_kind_and_sensitive_form(harness: Harness) -> None:
    body = await listed(harness, "kari", "kari")
    assert "errors" not in body, body.get("errors")
    found = nodes(body)
    titles = {n["title"] for n in found}
    assert "Spørsmål om psykisk helse" in titles
    assert {n["kind"] for n in found} >= {"GENERAL", "PRE_VISIT", "FOLLOW_UP"}
    states = [n["state"] for n in found]
    assert states == sorted(states, key=lambda s: s != "TO_ANSWER")
    pre = next(n for n in found if n["kind"] == "PRE_VISIT")
    assert pre["appointmentId"]
    assert pre["dueDate"]
    answered = next(n for n in found if n["state"] == "ANSWERED")
    assert answered["answers"]["origin"] == "REPORTED_BY_PATIENT"
    assert answered["answers"]["confirmation"] == "CONFIRMED"
    health = next(n for n in found if n["title"] == GENERAL)
    body = (await harness.query("kari", OPTIONS, {"id": health["id"]})).json()
    choice = next(q for q in body["data"]["node"]["questions"] if q["linkId"] == "health")
    assert [o["code"] for o in choice["options"]] == ["good", "fair", "poor"]
    assert choice["options"][0]["text"] == "God"


async def test_filters_by_state_kind_and_appointment(harness: Harness) -> None:
    everything = nodes(await listed(harness, "kari", "kari"))
    pre = next(n for n in everything if n["kind"] == "PRE_VISIT")
    by_appointment = nodes(
        await listed(harness, "kari", "kari", {"appointmentId": pre["appointmentId"]})
    )
    assert [n["id"] for n in by_appointment] == [pre["id"]]
    answered = nodes(await listed(harness, "kari", "kari", {"state": "ANSWERED"}))
    assert answered
    assert all(n["state"] == "ANSWERED" for n in answered)
    follow = nodes(await listed(harness, "kari", "kari", {"kind": "FOLLOW_UP"}))
    assert follow
    assert all(n["kind"] == "FOLLOW_UP" for n in follow)


async def test_sensitive_form_is_absent_for_parent_and_proxy(harness: Harness) -> None:
    for viewer, target in (("kari", "emil"), ("kari", "ola")):
        body = await listed(harness, viewer, target)
        assert "errors" not in body, body.get("errors")
        titles = [n["title"] for n in nodes(body)]
        assert GENERAL in titles
        assert "Spørsmål om psykisk helse" not in titles
        assert body["data"]["person"]["questionnaires"]["totalCount"] == len(titles)


async def test_bases_without_questionnaires(harness: Harness) -> None:
    cases = [
        ("kari", "ida", "CHILD_12_15"),
        ("nils", "berit", "PROXY_STANDARD"),
        ("nils", "arne", "PROXY_READ_ONLY"),
    ]
    for viewer, target, reason in cases:
        body = await listed(harness, viewer, target)
        assert body["data"]["person"]["questionnaires"] is None
        assert [e["extensions"]["reason"] for e in body["errors"]] == [reason]


async def test_communicate_only_proxy_has_no_questionnaires(harness: Harness) -> None:
    body = await listed(harness, "nils", "solveig")
    assert body["errors"][0]["extensions"]["reason"] == "PROXY_COMMUNICATE_ONLY"


async def _persisted(harness: Harness, persona: str, scope: str) -> dict[str, Any]:
    document = (OPERATIONS_DIR / "questionnaires.graphql").read_text(encoding="utf-8")
    token = harness.token(persona, act={"client_id": "partner-x"}, scope=scope)
    response = await harness.client.post(
        "/graphql",
        json={
            "documentId": f"sha256:{document_hash(document)}",
            "variables": {"id": await person_id(harness, persona)},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_partner_needs_the_scope_and_never_sees_sensitive_forms(harness: Harness) -> None:
    with_scope = await _persisted(harness, "kari", "helsegraf:questionnaires.read")
    assert "errors" not in with_scope, with_scope.get("errors")
    titles = [n["title"] for n in nodes(with_scope)]
    assert GENERAL in titles
    assert "Spørsmål om psykisk helse" not in titles
    without = await _persisted(harness, "kari", "helsegraf:results.read")
    assert without["data"]["person"]["questionnaires"] is None


async def test_node_refetches_and_hides_like_the_list(harness: Harness) -> None:
    own = await form(harness, "kari", "kari", GENERAL)
    body = (await harness.query("kari", NODE, {"id": own["id"]})).json()
    assert body["data"]["node"] == {"id": own["id"], "title": GENERAL, "state": "TO_ANSWER"}
    psy = next(n for n in nodes(await listed(harness, "kari", "kari")) if "psykisk" in n["title"])
    assert (await harness.query("kari", NODE, {"id": psy["id"]})).json()["data"]["node"]
    # the same id through a partner without the sensitive view: null and FORBIDDEN
    act = {"client_id": "partner-x"}
    scope = "helsegraf:questionnaires.read"
    hidden = (await harness.query("kari", NODE, {"id": psy["id"]}, act=act, scope=scope)).json()
    assert hidden.get("data") in (None, {"node": None})


async def test_answering_shows_in_the_next_read_once_per_key(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    target = await form(harness, "kari", "kari", GENERAL)
    variables = answer_input(kari, target["id"], GOOD, "answer-general-1")
    first = (await harness.query("kari", ANSWER, variables)).json()
    assert "errors" not in first, first.get("errors")
    payload = first["data"]["answerQuestionnaire"]
    assert payload["userErrors"] == []
    assert payload["questionnaire"]["state"] == "ANSWERED"
    assert payload["questionnaire"]["answers"]["origin"] == "REPORTED_BY_PATIENT"
    assert payload["questionnaire"]["answers"]["confirmation"] == "UNCONFIRMED"
    again = (await harness.query("kari", ANSWER, variables)).json()
    assert again["data"]["answerQuestionnaire"] == payload
    after = await form(harness, "kari", "kari", GENERAL)
    assert after["state"] == "ANSWERED"
    assert after["answers"]["confirmation"] == "UNCONFIRMED"
    assert {a["linkId"]: a["value"] for a in after["answers"]["answers"]}["height"] == "172"
    reused = answer_input(kari, target["id"], GOOD[:4], "answer-general-1")
    body = (await harness.query("kari", ANSWER, reused)).json()
    assert body["data"]["answerQuestionnaire"]["userErrors"][0]["code"] == "KEY_REUSED"
    twice = answer_input(kari, target["id"], GOOD, "answer-general-2")
    body = (await harness.query("kari", ANSWER, twice)).json()
    errors = body["data"]["answerQuestionnaire"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["questionnaireId"], "ALREADY_ANSWERED")]


async def test_a_retried_answer_is_stored_once(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    target = await form(harness, "kari", "kari", GENERAL)
    variables = answer_input(kari, target["id"], GOOD, "answer-general-9")
    for _ in range(2):
        assert "errors" not in (await harness.query("kari", ANSWER, variables)).json()
    answered = nodes(await listed(harness, "kari", "kari", {"state": "ANSWERED"}))
    assert [n["title"] for n in answered].count(GENERAL) == 1


async def test_answers_are_checked_per_question_in_the_callers_language(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    target = await form(harness, "kari", "kari", GENERAL)
    bad = [
        {"linkId": "smoker", "value": "kanskje"},
        {"linkId": "height", "value": "1.7"},
        {"linkId": "health", "value": "excellent"},
        {"linkId": "nope", "value": "x"},
        {"linkId": "allergies", "value": "x" * 501},
        {"linkId": "last-checkup", "value": "01.03.2025"},
    ]
    variables = answer_input(kari, target["id"], bad, "answer-bad-0001")
    body = (
        await harness.query("kari", ANSWER, variables, headers={"accept-language": "en"})
    ).json()
    errors = body["data"]["answerQuestionnaire"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        (["answers", "0", "value"], "INVALID"),
        (["answers", "1", "value"], "INVALID"),
        (["answers", "2", "value"], "NOT_AN_OPTION"),
        (["answers", "3", "linkId"], "UNKNOWN_QUESTION"),
        (["answers", "4", "value"], "TOO_LONG"),
        (["answers", "5", "value"], "INVALID"),
    ]
    assert errors[2]["message"] == "The answer is not one of the options."
    missing = answer_input(kari, target["id"], GOOD[:2], "answer-bad-0002")
    body = (await harness.query("kari", ANSWER, missing, headers={"accept-language": "nn"})).json()
    errors = body["data"]["answerQuestionnaire"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["answers"], "REQUIRED")]
    still = await form(harness, "kari", "kari", GENERAL)
    assert still["state"] == "TO_ANSWER"


async def test_who_may_answer(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    target = await form(harness, "kari", "emil", GENERAL)
    ok = (
        await harness.query("kari", ANSWER, answer_input(emil, target["id"], GOOD, "emil-1-key"))
    ).json()
    assert ok["data"]["answerQuestionnaire"]["userErrors"] == []
    for viewer, target_person in (("kari", "ida"), ("nils", "berit"), ("nils", "arne")):
        person = await person_id(harness, target_person)
        body = (
            await harness.query(
                viewer, ANSWER, answer_input(person, target["id"], GOOD, "deny-key-1")
            )
        ).json()
        errors = body["data"]["answerQuestionnaire"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(["personId"], "CATEGORY_UNAVAILABLE")]


async def test_a_hidden_form_cannot_be_answered(harness: Harness) -> None:
    kari_id = await person_id(harness, "kari")
    psy = next(n for n in nodes(await listed(harness, "kari", "kari")) if "psykisk" in n["title"])
    emil = await person_id(harness, "emil")
    # kari's own sensitive form's id, sent for emil: not one of emil's visible forms
    body = (
        await harness.query("kari", ANSWER, answer_input(emil, psy["id"], [], "hidden-key-1"))
    ).json()
    errors = body["data"]["answerQuestionnaire"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["questionnaireId"], "INVALID")]
    assert kari_id


async def test_answer_is_audited_as_a_write(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    target = await form(harness, "kari", "kari", GENERAL)
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    variables = answer_input(kari, target["id"], GOOD, "answer-audit-1")
    assert "errors" not in (await harness.query("kari", ANSWER, variables)).json()
    records = [r.entry async for r in audit.records() if r.seq > before]
    writes = [e for e in records if e.action == "write"]
    assert len(writes) == 1
    assert writes[0].categories == ("questionnaires",)
    assert any(r.startswith("EHR/QuestionnaireResponse/") for r in writes[0].resources)
