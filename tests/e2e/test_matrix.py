"""The authorization matrix: personas x bases x categories x actions, end to end.

Each row asks the real gateway, against the mocks, for one category of one person as one
viewer, and checks the answer is the data (allowed) or a single category-level refusal
with the policy's reason code (denied).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.conftest import Harness

# category -> (selection on Person, how to tell the data is there)
FIELDS: dict[str, str] = {
    "identity": "name",
    "gp": "gp { name }",
    "critical_info": "criticalInformation { id }",
    "municipal_services": "municipalServices { id }",
    "results": "labResults(first: 50) { id }",
    "prescriptions": "medications { id }",
    "vaccinations": "vaccinations { id }",
    "messages": "messages(first: 50) { totalCount edges { node { id } } }",
    "access_log": "accessLog(first: 5) { at }",
    "documents": "documents(first: 50) { totalCount edges { node { id downloadUrl } } }",
    "referrals": "referrals(first: 50) { totalCount edges { node { id } } }",
    "care_team": "careTeam { id }",
    "journal_requests": "journalRequests(first: 20) { totalCount edges { node { id } } }",
    "private_notes": "privateNotes(first: 5) { totalCount }",
    "settings": "notificationSettings { isDefault }",
    "questionnaires": "questionnaires(first: 20) { totalCount edges { node { id } } }",
    "monitoring": "measurements(first: 20) { totalCount edges { node { id } } }",
    "pregnancy": "pregnancy { estimatedDueDate }",
}
APPOINTMENTS = "appointments(first: 100) { totalCount edges { node { kind } } }"
SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id } userErrors { field code } }
}
"""


async def person_id(harness: Harness, persona: str) -> str:
    nin = harness.mocks.population.persona(persona).nin
    return harness.app_services.ids.person_id(nin)


async def ask(harness: Harness, viewer: str, target: str, selection: str) -> dict[str, Any]:
    query = f"query($id: ID!) {{ person(id: $id) {{ basis {selection} }} }}"
    body: dict[str, Any] = (
        await harness.query(viewer, query, {"id": await person_id(harness, target)})
    ).json()
    return body


def param(
    viewer: str,
    target: str,
    basis: str,
    category: str,
    action: str,
    allowed: bool,
    reason: str | None = None,
) -> Any:
    verdict = "may" if allowed else "may-not"
    case = f"{viewer}-as-{basis.lower()}-of-{target}-{verdict}-{action}-{category}"
    if viewer == target:
        case = f"{viewer}-{basis.lower()}-{verdict}-{action}-own-{category}"
    return pytest.param(viewer, target, basis, category, action, allowed, reason, id=case)


MATRIX = [
    # self
    param("kari", "kari", "SELF", "results", "read", True),
    param("kari", "kari", "SELF", "messages", "write", True),
    param("ola", "ola", "SELF", "access_log", "read", True),
    param("jonas", "jonas", "SELF", "results", "read", True),
    param("kari", "kari", "SELF", "gp", "read", True),
    param("kari", "kari", "SELF", "critical_info", "read", True),
    param("kari", "kari", "SELF", "municipal_services", "read", True),
    param("kari", "kari", "SELF", "documents", "read", True),
    # parent, child 0-11
    param("kari", "emil", "PARENT", "identity", "read", True),
    param("kari", "emil", "PARENT", "results", "read", True),
    param("kari", "emil", "PARENT", "hospital_appointments", "read", True),
    param("kari", "emil", "PARENT", "municipal_appointments", "read", True),
    param("kari", "emil", "PARENT", "prescriptions", "read", True),
    param("kari", "emil", "PARENT", "vaccinations", "read", True),
    param("kari", "emil", "PARENT", "messages", "write", True),
    param("kari", "emil", "PARENT", "access_log", "read", False, "CHILD_0_11"),
    param("kari", "emil", "PARENT", "gp", "read", True),
    param("kari", "emil", "PARENT", "critical_info", "read", True),
    param("kari", "emil", "PARENT", "municipal_services", "read", True),
    param("kari", "emil", "PARENT", "documents", "read", True),
    # parent, child 12-15
    param("kari", "ida", "PARENT", "identity", "read", True),
    param("kari", "ida", "PARENT", "results", "read", False, "CHILD_12_15"),
    param("kari", "ida", "PARENT", "hospital_appointments", "read", False, "CHILD_12_15"),
    param("kari", "ida", "PARENT", "municipal_appointments", "read", True),
    param("kari", "ida", "PARENT", "prescriptions", "read", True),
    param("kari", "ida", "PARENT", "vaccinations", "read", True),
    param("kari", "ida", "PARENT", "messages", "read", True),
    param("kari", "ida", "PARENT", "gp", "read", True),
    param("kari", "ida", "PARENT", "critical_info", "read", False, "CHILD_12_15"),
    param("kari", "ida", "PARENT", "municipal_services", "read", True),
    param("kari", "ida", "PARENT", "documents", "read", False, "CHILD_12_15"),
    param("nils", "thea", "PARENT", "documents", "read", False, "CHILD_12_15"),
    param("nils", "thea", "PARENT", "results", "read", False, "CHILD_12_15"),
    param("nils", "thea", "PARENT", "vaccinations", "read", True),
    # youth acting for herself, with consent
    param("ida", "ida", "YOUTH", "vaccinations", "read", True),
    param("ida", "ida", "YOUTH", "municipal_appointments", "read", True),
    param("ida", "ida", "YOUTH", "messages", "write", True),
    param("ida", "ida", "YOUTH", "results", "read", False, "YOUTH_SERVICES_ONLY"),
    param("ida", "ida", "YOUTH", "hospital_appointments", "read", False, "YOUTH_SERVICES_ONLY"),
    param("ida", "ida", "YOUTH", "prescriptions", "read", True),
    param("ida", "ida", "YOUTH", "messages", "read", True),
    param("ida", "ida", "YOUTH", "gp", "read", True),
    param("ida", "ida", "YOUTH", "critical_info", "read", False, "YOUTH_SERVICES_ONLY"),
    param("ida", "ida", "YOUTH", "municipal_services", "read", False, "YOUTH_SERVICES_ONLY"),
    param("ida", "ida", "YOUTH", "documents", "read", False, "YOUTH_SERVICES_ONLY"),
    # proxy kinds
    param("kari", "ola", "PROXY", "results", "read", True),
    param("kari", "ola", "PROXY", "prescriptions", "read", True),
    param("kari", "ola", "PROXY", "messages", "write", True),
    param("kari", "ola", "PROXY", "access_log", "read", False, "PROXY_FULL"),
    param("kari", "ola", "PROXY", "gp", "read", True),
    param("kari", "ola", "PROXY", "critical_info", "read", True),
    param("kari", "ola", "PROXY", "municipal_services", "read", True),
    param("kari", "ola", "PROXY", "documents", "read", True),
    param("nils", "berit", "PROXY", "results", "read", True),
    param("nils", "berit", "PROXY", "messages", "write", True),
    param("nils", "berit", "PROXY", "access_log", "read", False, "PROXY_STANDARD"),
    param("nils", "berit", "PROXY", "critical_info", "read", True),
    param("nils", "berit", "PROXY", "municipal_services", "read", True),
    param("nils", "berit", "PROXY", "documents", "read", True),
    param("nils", "arne", "PROXY", "results", "read", True),
    param("nils", "arne", "PROXY", "messages", "read", True),
    param("nils", "arne", "PROXY", "messages", "write", False, "PROXY_READ_ONLY"),
    param("nils", "arne", "PROXY", "gp", "read", True),
    param("nils", "arne", "PROXY", "municipal_services", "read", True),
    param("nils", "arne", "PROXY", "documents", "read", True),
    param("nils", "solveig", "PROXY", "messages", "read", True),
    param("nils", "solveig", "PROXY", "messages", "write", True),
    param("nils", "solveig", "PROXY", "hospital_appointments", "read", True),
    param("nils", "solveig", "PROXY", "results", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("nils", "solveig", "PROXY", "prescriptions", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("nils", "solveig", "PROXY", "vaccinations", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("nils", "solveig", "PROXY", "gp", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("nils", "solveig", "PROXY", "critical_info", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param(
        "nils", "solveig", "PROXY", "municipal_services", "read", False, "PROXY_COMMUNICATE_ONLY"
    ),
    param("nils", "solveig", "PROXY", "documents", "read", False, "PROXY_COMMUNICATE_ONLY"),
    # gateway-owned: private notes (self, full proxy) and settings (self, youth)
    param("kari", "kari", "SELF", "private_notes", "read", True),
    param("kari", "ola", "PROXY", "private_notes", "read", True),
    param("nils", "berit", "PROXY", "private_notes", "read", False, "PROXY_STANDARD"),
    param("kari", "emil", "PARENT", "private_notes", "read", False, "CHILD_0_11"),
    param("ida", "ida", "YOUTH", "private_notes", "read", False, "YOUTH_SERVICES_ONLY"),
    param("kari", "kari", "SELF", "settings", "read", True),
    param("ida", "ida", "YOUTH", "settings", "read", True),
    param("kari", "emil", "PARENT", "settings", "read", False, "CHILD_0_11"),
    param("kari", "ola", "PROXY", "settings", "read", False, "PROXY_FULL"),
    # appointments: a 13-year-old on the shared EHR (Trondheim), an API municipality (Oslo)
    param("nils", "thea", "PARENT", "municipal_appointments", "read", True),
    param("nils", "thea", "PARENT", "hospital_appointments", "read", False, "CHILD_12_15"),
    param("nils", "solveig", "PROXY", "municipal_appointments", "read", True),
    # referrals, care team, journal requests
    param("kari", "kari", "SELF", "referrals", "read", True),
    param("kari", "kari", "SELF", "care_team", "read", True),
    param("kari", "kari", "SELF", "journal_requests", "read", True),
    param("kari", "emil", "PARENT", "referrals", "read", True),
    param("kari", "emil", "PARENT", "care_team", "read", True),
    param("kari", "emil", "PARENT", "journal_requests", "read", True),
    param("kari", "ida", "PARENT", "referrals", "read", False, "CHILD_12_15"),
    param("kari", "ida", "PARENT", "care_team", "read", True),
    param("kari", "ida", "PARENT", "journal_requests", "read", False, "CHILD_12_15"),
    param("ida", "ida", "YOUTH", "referrals", "read", False, "YOUTH_SERVICES_ONLY"),
    param("ida", "ida", "YOUTH", "care_team", "read", False, "YOUTH_SERVICES_ONLY"),
    param("kari", "ola", "PROXY", "referrals", "read", True),
    param("kari", "ola", "PROXY", "care_team", "read", True),
    param("kari", "ola", "PROXY", "journal_requests", "read", True),
    param("nils", "berit", "PROXY", "referrals", "read", True),
    param("nils", "berit", "PROXY", "journal_requests", "read", False, "PROXY_STANDARD"),
    param("nils", "arne", "PROXY", "care_team", "read", True),
    param("nils", "arne", "PROXY", "journal_requests", "read", False, "PROXY_READ_ONLY"),
    param("nils", "solveig", "PROXY", "referrals", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("nils", "solveig", "PROXY", "care_team", "read", False, "PROXY_COMMUNICATE_ONLY"),
    # messages: a parent of a 12-15-year-old writes (to GP/municipality; default GP)
    param("kari", "ida", "PARENT", "messages", "write", True),
    param("nils", "thea", "PARENT", "messages", "read", True),
    param("nils", "thea", "PARENT", "messages", "write", True),
    # questionnaires, follow-up measurements, pregnancy care
    param("kari", "kari", "SELF", "questionnaires", "read", True),
    param("kari", "emil", "PARENT", "questionnaires", "read", True),
    param("kari", "ida", "PARENT", "questionnaires", "read", False, "CHILD_12_15"),
    param("ida", "ida", "YOUTH", "questionnaires", "read", False, "YOUTH_SERVICES_ONLY"),
    param("kari", "ola", "PROXY", "questionnaires", "read", True),
    param("nils", "berit", "PROXY", "questionnaires", "read", False, "PROXY_STANDARD"),
    param("nils", "solveig", "PROXY", "questionnaires", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("kari", "kari", "SELF", "monitoring", "read", True),
    param("kari", "emil", "PARENT", "monitoring", "read", True),
    param("kari", "ida", "PARENT", "monitoring", "read", False, "CHILD_12_15"),
    param("nils", "arne", "PROXY", "monitoring", "read", True),
    param("nils", "solveig", "PROXY", "monitoring", "read", False, "PROXY_COMMUNICATE_ONLY"),
    param("anna", "anna", "SELF", "pregnancy", "read", True),
    param("kari", "emil", "PARENT", "pregnancy", "read", False, "CHILD_0_11"),
    param("nils", "solveig", "PROXY", "pregnancy", "read", False, "PROXY_COMMUNICATE_ONLY"),
]


@pytest.mark.parametrize(
    ("viewer", "target", "basis", "category", "action", "allowed", "reason"), MATRIX
)
async def test_matrix(
    harness: Harness,
    viewer: str,
    target: str,
    basis: str,
    category: str,
    action: str,
    allowed: bool,
    reason: str | None,
) -> None:
    if action == "write":
        await _check_write(harness, viewer, target, allowed)
        return
    if category.endswith("_appointments"):
        await _check_appointments(harness, viewer, target, basis, category, allowed, reason)
        return
    field = FIELDS[category].split("(")[0].split(" ")[0]
    body = await ask(harness, viewer, target, FIELDS[category])
    assert body["data"]["person"]["basis"] == basis
    value = body["data"]["person"][field]
    errors = body.get("errors", [])
    if allowed:
        assert errors == [], errors
        assert value is not None
    else:
        assert value is None
        assert [e["extensions"] for e in errors] == [
            {"code": "CATEGORY_UNAVAILABLE", "category": category, "reason": reason}
        ]
        assert errors[0]["path"] == ["person", field]


async def _check_appointments(
    harness: Harness,
    viewer: str,
    target: str,
    basis: str,
    category: str,
    allowed: bool,
    reason: str | None,
) -> None:
    kind = "HOSPITAL" if category == "hospital_appointments" else "MUNICIPAL"
    body = await ask(harness, viewer, target, f"{APPOINTMENTS} restrictions {{ category reason }}")
    person = body["data"]["person"]
    assert person["basis"] == basis
    kinds = {e["node"]["kind"] for e in person["appointments"]["edges"]}
    restricted = {r["category"]: r["reason"] for r in person["restrictions"]}
    if allowed:
        assert kind in kinds
        assert category.upper() not in restricted
    else:
        assert kind not in kinds
        assert restricted[category.upper()] == reason
    assert "errors" not in body, body.get("errors")


async def _check_write(harness: Harness, viewer: str, target: str, allowed: bool) -> None:
    key = f"matrix-{viewer}-{target}-send"
    variables = {
        "input": {
            "personId": await person_id(harness, target),
            "subject": "Hei",
            "text": "Et spørsmål om timen.",
            "idempotencyKey": key,
        }
    }
    body = (await harness.query(viewer, SEND, variables)).json()
    assert "errors" not in body, body["errors"]
    payload = body["data"]["sendMessage"]
    if allowed:
        assert payload["userErrors"] == []
        assert payload["message"]["id"]
    else:
        assert payload["message"] is None
        assert payload["userErrors"] == [{"field": ["personId"], "code": "CATEGORY_UNAVAILABLE"}]


# -- who may act for whom at all --------------------------------------------------------

REPRESENTATIONS = {
    "kari": {("emil", "PARENT"), ("ida", "PARENT"), ("ola", "PROXY")},
    "nils": {("thea", "PARENT"), ("berit", "PROXY"), ("arne", "PROXY"), ("solveig", "PROXY")},
    "frode": set(),
    "mona": set(),
    "per": set(),
    "jonas": set(),
}


@pytest.mark.parametrize("viewer", sorted(REPRESENTATIONS))
async def test_representations_are_exactly_the_allowed_people(
    harness: Harness, viewer: str
) -> None:
    body = (
        await harness.query(viewer, "{ viewer { representations { basis person { id } } } }")
    ).json()
    ids = {await person_id(harness, p): p for p in harness.mocks.population.persona_keys}
    found = {
        (ids[r["person"]["id"]], r["basis"]) for r in body["data"]["viewer"]["representations"]
    }
    assert found == REPRESENTATIONS[viewer]


OUT_OF_REACH = [
    pytest.param("kari", "jonas", id="parent-of-17-year-old"),
    pytest.param("kari", "per", id="unrelated-adult"),
    pytest.param("frode", "emil", id="parent-without-parental-responsibility"),
    pytest.param("mona", "lea", id="child-at-confidential-address"),
    pytest.param("nils", "gunnar", id="expired-power-of-attorney"),
    pytest.param("ola", "kari", id="grantor-cannot-see-holder"),
    pytest.param("emil", "kari", id="child-cannot-see-parent"),
]


@pytest.mark.parametrize(("viewer", "target"), OUT_OF_REACH)
async def test_out_of_reach_is_forbidden_like_no_one(
    harness: Harness, viewer: str, target: str
) -> None:
    body = await ask(harness, viewer, target, "name")
    assert body["data"] == {"person": None}
    assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN"}]


@pytest.mark.parametrize("persona", ["thea", "emil"])
async def test_children_without_a_basis_of_their_own_see_nothing(
    harness: Harness, persona: str
) -> None:
    body = (await harness.query(persona, "{ viewer { person { name } } }")).json()
    assert body["data"] == {"viewer": {"person": None}}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


def test_matrix_ids_are_unique_and_cover_every_basis() -> None:
    ids = [p.id for p in MATRIX]
    assert len(ids) == len(set(ids))
    bases = {p.values[2] for p in MATRIX}
    assert bases == {"SELF", "PARENT", "YOUTH", "PROXY"}
    assert set(
        itertools.chain.from_iterable(
            [p.values[3] for p in MATRIX if p.values[2] == basis] for basis in bases
        )
    ) >= set(FIELDS) - {"identity"}


# -- a partner acting for a citizen: never more than the citizen's own basis -------------

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
# category -> the Home screen's field that shows it
HOME_FIELDS = {
    "results": "labResults",
    "prescriptions": "medications",
    "vaccinations": "vaccinations",
    "messages": "unreadMessageCount",
}


def partner_param(citizen: str, age: int, category: str, allowed: bool, reason: str = "") -> Any:
    verdict = "may" if allowed else "may-not"
    case = f"partner-for-{citizen}-{age}-{verdict}-read-{category}"
    return pytest.param(citizen, category, allowed, reason or None, id=case)


PARTNER_MATRIX = [
    partner_param("ida", 14, "results", False, "YOUTH_SERVICES_ONLY"),
    partner_param("ida", 14, "prescriptions", True),
    partner_param("ida", 14, "vaccinations", True),
    partner_param("ida", 14, "messages", True),
    partner_param("jonas", 17, "results", True),
    partner_param("kari", 45, "results", True),
    partner_param("kari", 45, "prescriptions", True),
]


async def as_partner(harness: Harness, citizen: str, scope: str) -> dict[str, Any]:
    token = harness.token(citizen, act={"client_id": "partner-x"}, scope=scope)
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(HOME)}"},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("citizen", "category", "allowed", "reason"), PARTNER_MATRIX)
async def test_partner_matrix(
    harness: Harness, citizen: str, category: str, allowed: bool, reason: str | None
) -> None:
    # the token's scopes name the category: only the citizen's own basis can refuse it
    body = await as_partner(harness, citizen, f"helsegraf:identity.read helsegraf:{category}.read")
    person = body["data"]["viewer"]["person"]
    assert person["basis"] == "PARTNER"
    value = person[HOME_FIELDS[category]]
    refused = {
        e["extensions"]["category"]: e["extensions"]["reason"]
        for e in body.get("errors", [])
        if e["extensions"]["code"] == "CATEGORY_UNAVAILABLE"
    }
    if allowed:
        assert value is not None
        assert category not in refused
    else:
        assert value is None
        assert refused[category] == reason


@pytest.mark.parametrize("citizen", ["thea", "emil"])
async def test_a_partner_for_someone_without_a_basis_of_their_own_gets_nothing(
    harness: Harness, citizen: str
) -> None:
    body = await as_partner(harness, citizen, "helsegraf:identity.read helsegraf:results.read")
    assert body["data"] == {"viewer": {"person": None, "representations": []}}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
