"""Login level, partner services and analysts: who the caller is shapes what they get."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authz.suppression import Counts
from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR, document_hash
from mocks.app import MockUpstreams
from tests.authz.test_suppression import determined
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import MOCK_ORIGIN, NOON, Harness, gateway_settings

LOW: dict[str, Any] = {"acr": "idporten-loa-substantial"}
HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
RESULTS = (OPERATIONS_DIR / "results.graphql").read_text(encoding="utf-8")


def codes(body: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {
        (e["extensions"]["code"], e["extensions"].get("reason")) for e in body.get("errors", [])
    }


async def test_below_high_login_level_only_own_non_health_data(harness: Harness) -> None:
    body = (await harness.query("kari", HOME, **LOW)).json()
    viewer = body["data"]["viewer"]
    assert viewer["person"]["name"] == "Kari Nordmann"
    assert viewer["representations"] == []
    for field in (
        "unreadMessageCount",
        "appointments",
        "labResults",
        "medications",
        "vaccinations",
    ):
        assert viewer["person"][field] is None, field
    assert codes(body) == {("CATEGORY_UNAVAILABLE", "LOGIN_LEVEL_TOO_LOW")}
    restrictions = (
        await harness.query(
            "kari", "{ viewer { person { restrictions { category reason } } } }", **LOW
        )
    ).json()["data"]["viewer"]["person"]["restrictions"]
    restricted = {r["category"] for r in restrictions}
    assert "RESULTS" in restricted
    assert "IDENTITY" not in restricted
    assert {r["reason"] for r in restrictions} == {"LOGIN_LEVEL_TOO_LOW"}


def _partner(harness: Harness, scopes: str) -> dict[str, Any]:
    return {"act": {"client_id": "partner-portal-x"}, "scope": scopes}


async def _persisted(
    harness: Harness,
    document: str,
    variables: dict[str, Any],
    *,
    persona: str = "kari",
    **claims: Any,
) -> dict[str, Any]:
    token = harness.token(persona, **claims)
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(document)}", "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    body["status"] = response.status_code
    return body


async def test_partner_must_use_persisted_operations(harness: Harness) -> None:
    claims = _partner(harness, "helsegraf:identity.read helsegraf:results.read")
    response = await harness.query("kari", "{ viewer { person { name } } }", **claims)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    unknown = await harness.client.post(
        "/graphql",
        json={"documentId": "sha256:" + "0" * 64},
        headers={"authorization": f"Bearer {harness.token('kari', **claims)}"},
    )
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_partner_sees_only_its_scopes_and_only_the_citizen(harness: Harness) -> None:
    claims = _partner(harness, "helsegraf:identity.read helsegraf:results.read")
    home = await _persisted(harness, HOME, {}, **claims)
    assert home["status"] == 200
    person = home["data"]["viewer"]["person"]
    assert person["name"] == "Kari Nordmann"
    assert person["basis"] == "PARTNER"
    assert person["labResults"]
    assert person["medications"] is None
    assert home["data"]["viewer"]["representations"] == []
    assert ("CATEGORY_UNAVAILABLE", "PARTNER_SCOPE") in codes(home)
    own_id = person["id"]
    results = await _persisted(harness, RESULTS, {"id": own_id}, **claims)
    assert results["data"]["person"]["labResults"]


async def test_partner_never_sees_sensitive_items(harness: Harness) -> None:
    claims = _partner(harness, "helsegraf:identity.read helsegraf:results.read")
    me = (await harness.query("kari", "{ viewer { person { id } } }")).json()
    own_id = me["data"]["viewer"]["person"]["id"]
    as_self = (await harness.query("kari", RESULTS, {"id": own_id, "first": 50})).json()
    as_partner = await _persisted(harness, RESULTS, {"id": own_id, "first": 50}, **claims)
    mine = {r["id"] for r in as_self["data"]["person"]["labResults"]}
    theirs = {r["id"] for r in as_partner["data"]["person"]["labResults"]}
    assert theirs <= mine


async def test_analyst_gets_suppressed_aggregates_and_no_person(harness: Harness) -> None:
    claims: dict[str, Any] = {"scope": "openid helsegraf:analytics"}
    body = (
        await harness.query(
            "per",
            "{ statistics { vaccinationCoverage { municipality ageBand vaccine "
            "vaccinated population suppressed } } }",
            **claims,
        )
    ).json()
    cells = body["data"]["statistics"]["vaccinationCoverage"]
    assert cells
    for cell in cells:
        if cell["suppressed"]:
            assert cell["vaccinated"] is None
            assert cell["population"] is None
        else:
            assert cell["vaccinated"] >= 5
            assert cell["population"] - cell["vaccinated"] >= 5
    person = (await harness.query("per", "{ viewer { person { name } } }", **claims)).json()
    assert person["data"] == {"viewer": {"person": None}}
    assert codes(person) == {("FORBIDDEN", None)}


async def test_citizens_get_no_statistics(harness: Harness) -> None:
    body = (
        await harness.query("kari", "{ statistics { vaccinationCoverage { vaccine } } }")
    ).json()
    assert body["data"]["statistics"] is None
    assert codes(body) == {("FORBIDDEN", None)}


def test_example_operations_are_the_safelist() -> None:
    from gateway.persisted import PersistedOperations

    operations = PersistedOperations.load()
    files = sorted(p.stem for p in Path(OPERATIONS_DIR).glob("*.graphql"))
    assert sorted(operations.names.values()) == files


async def test_citizens_may_run_persisted_operations_by_get(harness: Harness) -> None:
    response = await harness.client.get(
        "/graphql",
        params={"documentId": f"sha256:{document_hash(HOME)}"},
        headers={"authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


async def test_a_policy_file_from_configuration_changes_access_without_code(
    tmp_path: Path,
) -> None:
    from authz.policy_file import DEFAULT_POLICY

    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        '[proxy.kinds.full]\nread = ["identity", "gp",', '[proxy.kinds.full]\nread = ["identity",'
    )
    assert text != DEFAULT_POLICY.read_text(encoding="utf-8")
    custom = tmp_path / "policy.toml"
    custom.write_text(text, encoding="utf-8")
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    app = create_app(
        gateway_settings(mocks, policy_path=str(custom)),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        body = (
            await client.post(
                "/graphql",
                headers={"authorization": f"Bearer {token}"},
                json={
                    "query": "{ viewer { representations { person { "
                    "restrictions { category reason } } } } }"
                },
            )
        ).json()
    await app.state.services.aclose()
    ola = body["data"]["viewer"]["representations"][-1]["person"]
    assert {"category": "GP", "reason": "PROXY_FULL"} in ola["restrictions"]


# -- partners are known clients --------------------------------------------------------


async def _status(harness: Harness, **claims: Any) -> tuple[int, str | None]:
    token = harness.token("kari", **claims)
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(HOME)}"},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.status_code, response.json()["errors"][0]["extensions"]["code"] if (
        response.status_code != 200
    ) else None


async def test_tokens_naming_unknown_clients_are_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    scope = {"scope": "helsegraf:identity.read"}
    assert await _status(harness, act={"client_id": "partner-x"}, **scope) == (200, None)
    refused: list[dict[str, Any]] = [
        {"act": {"client_id": "partner-unknown"}, **scope},
        {"client_id": "somebody-elses-app"},
        {"client_id": None},
        {"act": {"client_id": "helsegraf-portal"}, **scope},  # an actor must be a partner
    ]
    with caplog.at_level(logging.INFO, logger="helsegraf.http"):
        for claims in refused:
            assert await _status(harness, **claims) == (401, "UNAUTHENTICATED"), claims
    reasons = [r.getMessage() for r in caplog.records if "refused a token" in r.getMessage()]
    assert reasons == [
        "refused a token (unknown-client)",
        "refused a token (unknown-client)",
        "refused a token (no-client)",
        "refused a token (actor-not-partner)",
    ]
    assert not any("partner-unknown" in r.getMessage() for r in caplog.records)


async def test_a_partners_own_client_token_is_a_partners(harness: Harness) -> None:
    """A token issued to a partner is the partner's, with or without `act`."""
    token = harness.token("kari", client_id="partner-x", scope="helsegraf:identity.read")
    response = await harness.client.post(
        "/graphql",
        json={"query": "{ viewer { person { name } } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    body = await _persisted(
        harness, HOME, {}, client_id="partner-x", scope="helsegraf:identity.read"
    )
    assert body["data"]["viewer"]["person"]["basis"] == "PARTNER"
    assert body["data"]["viewer"]["person"]["medications"] is None


NARROW = {"kind": "partner", "categories": ["identity", "results"], "operations": ["home"]}


@contextlib.asynccontextmanager
async def narrow_partner() -> AsyncIterator[Harness]:
    """A gateway where `partner-narrow` is registered for identity and results, and the
    home screen only."""
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    clients = {**mocks.settings_env(MOCK_ORIGIN)["clients"], "partner-narrow": NARROW}
    app = create_app(
        gateway_settings(mocks, clients=clients),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield Harness(mocks, client, app.state.services)
    await app.state.services.aclose()


async def test_a_partner_gets_only_its_registered_categories_and_operations() -> None:
    scopes = "helsegraf:identity.read helsegraf:results.read helsegraf:prescriptions.read"
    claims: dict[str, Any] = {"act": {"client_id": "partner-narrow"}, "scope": scopes}
    async with narrow_partner() as harness:
        home = await _persisted(harness, HOME, {}, **claims)
        person = home["data"]["viewer"]["person"]
        assert person["labResults"] is not None
        assert person["medications"] is None  # in the token's scopes, not registered
        assert ("CATEGORY_UNAVAILABLE", "PARTNER_SCOPE") in codes(home)
        own = person["id"]
        results = await _persisted(harness, RESULTS, {"id": own}, **claims)
        assert results["status"] == 400
        assert codes(results) == {("PERSISTED_QUERY_NOT_FOUND", None)}
        by_text = await harness.client.post(
            "/graphql",
            json={"query": RESULTS, "variables": {"id": own}},
            headers={"authorization": f"Bearer {harness.token('kari', **claims)}"},
        )
        assert by_text.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # the same operation for a partner registered for every one runs
        wide = await _persisted(harness, RESULTS, {"id": own}, **_partner(harness, scopes))
        assert wide["data"]["person"]["labResults"]


# -- the youth basis ---------------------------------------------------------------------

MEDICINES = (OPERATIONS_DIR / "medicines.graphql").read_text(encoding="utf-8")
INBOX = (OPERATIONS_DIR / "inbox.graphql").read_text(encoding="utf-8")


async def _medicines(harness: Harness, viewer: str, target: str, **claims: Any) -> list[Any]:
    nin = harness.mocks.population.persona(target).nin
    query = MEDICINES.replace("startedOn", "startedOn endedOn")
    body = (
        await harness.query(
            viewer, query, {"id": harness.app_services.ids.person_id(nin)}, **claims
        )
    ).json()
    assert "errors" not in body, body["errors"]
    medications: list[Any] = body["data"]["person"]["medications"]
    return medications


async def test_a_young_person_sees_her_recent_prescriptions_her_parent_not_the_reserved(
    harness: Harness,
) -> None:
    own = {m["atc"]: m for m in await _medicines(harness, "ida", "ida")}
    assert "G03AA07" in own  # reserved from guardians: hers all the same
    assert "R06AX27" in own  # expired four months ago
    assert own["R06AX27"]["endedOn"] == str(REFERENCE_DAY - dt.timedelta(days=120))
    assert own["G03AA07"]["endedOn"] is None
    assert "D10AF01" not in own  # expired twenty months ago
    # e-prescriptions only, not the hospital record's medication list
    assert {s["kind"] for m in own.values() for s in m["sources"]} == {"NATIONAL"}
    parent = {m["atc"] for m in await _medicines(harness, "kari", "ida")}
    assert "G03AA07" not in parent
    assert "R06AX27" not in parent  # the parent's view lists active prescriptions only
    assert parent  # and does list those


async def test_a_young_person_reads_and_writes_messages_with_her_gp_and_municipality_only(
    harness: Harness,
) -> None:
    query = """{ viewer { person {
      messages(first: 50) { totalCount edges { node { subject counterpartKind } } }
      messageRecipients { kind } } } }"""
    own = (await harness.query("ida", query)).json()["data"]["viewer"]["person"]
    kinds = {e["node"]["counterpartKind"] for e in own["messages"]["edges"]}
    assert kinds <= {"GP", "MUNICIPALITY"}
    assert own["messages"]["totalCount"] == len(own["messages"]["edges"])
    assert "Samtale om helse" in {e["node"]["subject"] for e in own["messages"]["edges"]}
    assert {r["kind"] for r in own["messageRecipients"]} <= {"GP", "MUNICIPALITY"}
    # her parent still reads what the 12-15 band allows, hospital messages included
    nin = harness.mocks.population.persona("ida").nin
    parent = (
        await harness.query(
            "kari",
            "query($id: ID!) { person(id: $id) { messages(first: 50) { edges { node { "
            "counterpartKind } } } } }",
            {"id": harness.app_services.ids.person_id(nin)},
        )
    ).json()["data"]["person"]
    assert "HOSPITAL" in {e["node"]["counterpartKind"] for e in parent["messages"]["edges"]}


async def test_a_partner_for_a_young_person_sees_exactly_what_she_sees(harness: Harness) -> None:
    scopes = " ".join(
        f"helsegraf:{c}.read" for c in ("identity", "messages", "prescriptions", "results")
    )
    claims = {"act": {"client_id": "partner-x"}, "scope": scopes}
    nin = harness.mocks.population.persona("ida").nin
    own_id = harness.app_services.ids.person_id(nin)

    async def screens(**token: Any) -> tuple[Any, ...]:
        async def run(document: str) -> dict[str, Any]:
            response = await harness.client.post(
                "/graphql",
                json={
                    "documentId": f"sha256:{document_hash(document)}",
                    "variables": {"id": own_id},
                },
                headers={"authorization": f"Bearer {harness.token('ida', **token)}"},
            )
            body: dict[str, Any] = response.json()
            return body

        inbox, medicines = await run(INBOX), await run(MEDICINES)
        threads = sorted(
            (e["node"]["subject"], e["node"]["counterpartKind"], e["node"]["messageCount"])
            for e in inbox["data"]["person"]["threads"]["edges"]
        )
        atcs = sorted(m["atc"] for m in medicines["data"]["person"]["medications"])
        return threads, inbox["data"]["person"]["unreadMessageCount"], atcs

    assert await screens(**claims) == await screens()
    results = await _persisted(harness, RESULTS, {"id": own_id}, persona="ida", **claims)
    assert results["data"]["person"]["labResults"] is None
    assert codes(results) == {("CATEGORY_UNAVAILABLE", "YOUTH_SERVICES_ONLY")}


# -- analysts ------------------------------------------------------------------------------

COVERAGE = """query($municipality: String, $vaccine: String) { statistics {
  vaccinationCoverage(municipality: $municipality, vaccine: $vaccine) {
    municipality ageBand vaccine vaccinated population suppressed } } }"""
ANALYST: dict[str, Any] = {"scope": "openid helsegraf:analytics"}


async def _coverage(harness: Harness, **variables: str) -> list[dict[str, Any]]:
    body = (await harness.query("anna", COVERAGE, variables, **ANALYST)).json()
    cells: list[dict[str, Any]] = body["data"]["statistics"]["vaccinationCoverage"]
    return cells


async def test_a_selection_of_the_coverage_table_shows_the_same_cells(harness: Harness) -> None:
    whole = await _coverage(harness)
    assert any(c["suppressed"] for c in whole)
    assert any(not c["suppressed"] for c in whole)
    for municipality in sorted({c["municipality"] for c in whole}):
        part = await _coverage(harness, municipality=municipality)
        assert part == [c for c in whole if c["municipality"] == municipality]
    vaccine = whole[0]["vaccine"]
    part = await _coverage(harness, vaccine=vaccine)
    assert part == [c for c in whole if c["vaccine"] == vaccine]


@contextlib.asynccontextmanager
async def gateway_over(population: int, **overrides: Any) -> AsyncIterator[Harness]:
    """A fresh gateway against mocks of `population` people, with `overrides`."""
    mocks = MockUpstreams(size=population, today=REFERENCE_DAY)
    app = create_app(
        gateway_settings(mocks, **overrides),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield Harness(mocks, client, app.state.services)
    await app.state.services.aclose()


async def test_no_suppressed_cell_follows_from_the_shown_ones_and_the_totals() -> None:
    # 500 people: small cells alone in their municipality's or age band's line, which
    # that line's total would give away unless others are withheld with them
    async with gateway_over(500) as harness:
        whole = await _coverage(harness)
    shown = [c for c in whole if not c["suppressed"]]
    assert shown
    assert len(shown) < len(whole)
    table = {
        (c["municipality"], c["ageBand"], c["vaccine"]): Counts(0, 0)  # only the shape counts
        for c in whole
    }
    withheld = frozenset(k for k, c in zip(table, whole, strict=True) if c["suppressed"])
    assert determined(table, withheld) == []


async def test_the_small_cell_threshold_comes_from_the_policy(tmp_path: Path) -> None:
    from authz.policy_file import DEFAULT_POLICY

    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace("min_cell = 5", "min_cell = 12")
    assert "min_cell = 12" in text
    custom = tmp_path / "policy.toml"
    custom.write_text(text, encoding="utf-8")
    async with gateway_over(200) as harness:
        usual = await _coverage(harness)
    async with gateway_over(200, policy_path=str(custom)) as harness:
        strict = await _coverage(harness)
    shown = [c for c in strict if not c["suppressed"]]
    assert len(shown) < len([c for c in usual if not c["suppressed"]])
    for cell in shown:
        assert min(cell["vaccinated"], cell["population"] - cell["vaccinated"]) >= 12


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            {"kind": "partner", "categories": ["x-rays"], "operations": ["home"]},
            r"HELSEGRAF_CLIENTS: partner-y\.categories names an unknown category: x-rays",
            id="unknown-category",
        ),
        pytest.param(
            {"kind": "partner", "categories": ["results"], "operations": ["homepage"]},
            r"HELSEGRAF_CLIENTS: partner-y\.operations names an unknown persisted operation",
            id="unknown-operation",
        ),
    ],
)
def test_the_gateway_refuses_to_start_with_a_registry_it_cannot_honour(
    spec: dict[str, Any], message: str
) -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    clients = {**mocks.settings_env(MOCK_ORIGIN)["clients"], "partner-y": spec}
    with pytest.raises(ValueError, match=message):
        create_app(gateway_settings(mocks, clients=clients))
