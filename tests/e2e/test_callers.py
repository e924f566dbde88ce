"""Login level, partner services and analysts: who the caller is shapes what they get."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.persisted import OPERATIONS_DIR, document_hash
from tests.e2e.conftest import Harness

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
    harness: Harness, document: str, variables: dict[str, Any], **claims: Any
) -> dict[str, Any]:
    token = harness.token("kari", **claims)
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
    assert person["data"] is None
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
    import httpx

    from authz.policy import DEFAULT_POLICY
    from gateway.app import create_app
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY
    from tests.e2e.conftest import NOON, gateway_settings

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
