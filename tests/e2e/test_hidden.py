"""Hidden means absent: no placeholder, count, page gap or error difference."""

from __future__ import annotations

from typing import Any

from mocks.persona_records import EMIL_RELEASE_CASES
from tests.e2e.conftest import Harness

LABS = "labResults(first: 50) { id code name }"
APPOINTMENTS = "appointments(first: 100) { totalCount edges { node { id service } } }"
MESSAGES = (
    "unreadMessageCount "
    "messages(first: 100) { totalCount edges { node { subject read fromPerson } } }"
)
MEDICATIONS = "medications { atc }"


async def view(harness: Harness, viewer: str, target: str, selection: str) -> dict[str, Any]:
    nin = harness.mocks.population.persona(target).nin
    query = f"query($id: ID!) {{ person(id: $id) {{ {selection} }} }}"
    body: dict[str, Any] = (
        await harness.query(viewer, query, {"id": harness.app_services.ids.person_id(nin)})
    ).json()
    return body


def services(person: dict[str, Any]) -> list[str]:
    return [e["node"]["service"] for e in person["appointments"]["edges"]]


async def test_lab_release_rules_for_a_parent(harness: Harness) -> None:
    person = (await view(harness, "kari", "emil", LABS))["data"]["person"]
    codes = {r["code"] for r in person["labResults"]}
    cases = {c.code: c for c in EMIL_RELEASE_CASES}
    shown = codes & set(cases)
    assert shown == {"6690-2", "2951-2", "2823-3", "1920-8"}, {cases[c].display for c in shown}


async def test_sensitive_and_restricted_items_are_the_persons_own(harness: Harness) -> None:
    own = (await view(harness, "kari", "kari", f"{LABS} {APPOINTMENTS}"))["data"]["person"]
    assert "20447-9" in {r["code"] for r in own["labResults"]}
    assert "Poliklinikk psykisk helse" in services(own)

    ola_self = (await view(harness, "ola", "ola", f"{LABS} {APPOINTMENTS}"))["data"]["person"]
    by_proxy = (await view(harness, "kari", "ola", f"{LABS} {APPOINTMENTS}"))["data"]["person"]
    assert "Hukommelsesklinikken" in services(ola_self)
    assert "Hukommelsesklinikken" not in services(by_proxy)
    assert by_proxy["appointments"]["totalCount"] == len(by_proxy["appointments"]["edges"])
    assert by_proxy["appointments"]["totalCount"] == ola_self["appointments"]["totalCount"] - 1
    # withheld from the portal: not even the person sees it
    for person in (ola_self, by_proxy):
        assert "14682-9" not in {r["code"] for r in person["labResults"]}


async def test_what_a_young_person_keeps_from_guardians(harness: Harness) -> None:
    selection = f"{APPOINTMENTS} {MESSAGES} {MEDICATIONS}"
    ida_self = await view(harness, "ida", "ida", f"{APPOINTMENTS} {MESSAGES}")
    parent = await view(harness, "kari", "ida", selection)
    assert "errors" not in parent, parent["errors"]
    person = parent["data"]["person"]
    assert "Helsestasjon for ungdom" in services(ida_self["data"]["person"])
    assert "Helsestasjon for ungdom" not in services(person)
    subjects_self = {e["node"]["subject"] for e in ida_self["data"]["person"]["messages"]["edges"]}
    subjects_parent = {e["node"]["subject"] for e in person["messages"]["edges"]}
    assert "Samtale om helse" in subjects_self
    assert "Samtale om helse" not in subjects_parent
    assert "G03AA07" not in {m["atc"] for m in person["medications"]}
    # counts agree with what is listed
    messages = person["messages"]
    assert messages["totalCount"] == len(messages["edges"])
    unread = sum(
        1 for e in messages["edges"] if not e["node"]["read"] and not e["node"]["fromPerson"]
    )
    assert person["unreadMessageCount"] == unread
    appointments = person["appointments"]
    assert appointments["totalCount"] == len(appointments["edges"])


async def test_paging_past_a_hidden_item_leaves_no_gap(harness: Harness) -> None:
    nin = harness.mocks.population.persona("ida").nin
    query = """query($id: ID!, $after: String) { person(id: $id) {
      appointments(first: 1, after: $after) { totalCount
        pageInfo { hasNextPage endCursor } edges { node { id service } } } } }"""
    seen: list[str] = []
    after = None
    totals = set()
    for _ in range(50):
        body = (
            await harness.query(
                "kari", query, {"id": harness.app_services.ids.person_id(nin), "after": after}
            )
        ).json()
        page = body["data"]["person"]["appointments"]
        totals.add(page["totalCount"])
        seen += [e["node"]["service"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert totals == {len(seen)}
    assert "Helsestasjon for ungdom" not in seen


async def test_children_12_15_answer_alike_whatever_they_hide(harness: Harness) -> None:
    selection = f"restrictions {{ category reason }} {LABS} {APPOINTMENTS} {MEDICATIONS}"
    harness.mocks.reset_counters()
    ida = await view(harness, "kari", "ida", selection)  # has items kept from guardians
    calls_for_ida = harness.mocks.counts()
    harness.mocks.reset_counters()
    thea = await view(harness, "nils", "thea", selection)  # has none
    calls_for_thea = harness.mocks.counts()

    # the same upstream work either way: hiding costs no request a timing could show
    def upstream_calls(counts: dict[str, int]) -> tuple[int, int, int]:
        municipal = sum(v for k, v in counts.items() if k.startswith("MUNICIPAL"))
        return counts["EHR"], counts["NATIONAL"], municipal

    assert upstream_calls(calls_for_ida) == upstream_calls(calls_for_thea)
    assert ida["data"]["person"]["restrictions"] == thea["data"]["person"]["restrictions"]
    shape = [(e["path"], e["extensions"]) for e in ida["errors"]]
    assert shape == [(e["path"], e["extensions"]) for e in thea["errors"]]


async def test_a_confidential_home_address_never_reaches_the_portal(harness: Harness) -> None:
    mona = harness.mocks.population.persona("mona")
    body = await view(
        harness,
        "mona",
        "mona",
        "appointments(first: 100) { edges { node { service location { name "
        "address { street city } } } } }",
    )
    text = str(body)
    assert mona.address.street not in text
