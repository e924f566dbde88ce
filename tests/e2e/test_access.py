"""Authentication, representations and `person(id:)`, end to end."""

from __future__ import annotations

import time

import pytest

from mocks.oidc import MockIssuer
from resolvers.core.ids import encode
from tests.e2e.conftest import Harness

VIEWER = """
{ viewer {
    person { id name basis }
    representations { basis validUntil person { id name basis } }
} }
"""
PERSON = "query($id: ID!) { person(id: $id) { id name basis } }"


async def test_kari_represents_her_young_children_and_ola(harness: Harness) -> None:
    response = await harness.query("kari", VIEWER)
    body = response.json()
    assert "errors" not in body, body
    viewer = body["data"]["viewer"]
    assert viewer["person"]["name"] == "Kari Nordmann"
    assert viewer["person"]["basis"] == "SELF"
    found = {(r["person"]["name"], r["basis"]) for r in viewer["representations"]}
    assert found == {
        ("Emil Nordmann", "PARENT"),
        ("Ida Nordmann", "PARENT"),
        ("Ola Nordmann", "PROXY"),
    }
    for nin in (harness.mocks.population.persona(p).nin for p in ("kari", "emil", "ida", "ola")):
        assert nin not in response.text


@pytest.mark.parametrize("persona", ["per", "ola", "jonas"])
async def test_people_without_relations_represent_no_one(harness: Harness, persona: str) -> None:
    body = (await harness.query(persona, VIEWER)).json()
    assert body["data"]["viewer"]["representations"] == []


async def test_person_by_id_for_self_and_represented(harness: Harness) -> None:
    viewer = (await harness.query("kari", VIEWER)).json()["data"]["viewer"]
    for expected in [viewer["person"], *(r["person"] for r in viewer["representations"])]:
        body = (await harness.query("kari", PERSON, {"id": expected["id"]})).json()
        assert "errors" not in body, body
        assert body["data"]["person"] == expected


async def test_someone_else_and_no_one_fail_the_same_way(harness: Harness) -> None:
    jonas_id = (await harness.query("jonas", VIEWER)).json()["data"]["viewer"]["person"]["id"]
    per_id = (await harness.query("per", VIEWER)).json()["data"]["viewer"]["person"]["id"]
    ghost_id = encode("Person", "gw", "bm8tb25lLWhhcy10aGlzLWtleQ")
    answers = []
    for target in (jonas_id, per_id, ghost_id):
        body = (await harness.query("kari", PERSON, {"id": target})).json()
        assert body["data"] == {"person": None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        answers.append(body["errors"][0]["message"])
    assert len(set(answers)) == 1


async def test_a_malformed_id_is_bad_user_input(harness: Harness) -> None:
    body = (await harness.query("kari", PERSON, {"id": "not an id"})).json()
    assert body["data"] == {"person": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}


def _expired(h: Harness) -> dict[str, object]:
    return {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="missing"),
        pytest.param("garbage", id="garbage"),
        pytest.param("expired", id="expired"),
        pytest.param("wrong-audience", id="wrong-audience"),
        pytest.param("wrong-issuer", id="wrong-issuer"),
        pytest.param("foreign-key", id="signed-by-another-key"),
    ],
)
async def test_no_valid_token_is_401_and_no_upstream_call(
    harness: Harness, token: str | None
) -> None:
    kari = harness.mocks.population.persona("kari")
    tokens = {
        "garbage": "garbage",
        "expired": harness.token("kari", **_expired(harness)),
        "wrong-audience": harness.token("kari", aud="someone-else"),
        "wrong-issuer": harness.token("kari", iss="https://evil.example"),
        "foreign-key": MockIssuer(seed="another").token_for(kari),
    }
    headers = {} if token is None else {"authorization": f"Bearer {tokens[token]}"}
    # warm the key cache first, so "no upstream call" is about the health data
    await harness.query("per", "{ viewer { person { id } } }")
    harness.mocks.reset_counters()
    response = await harness.query(None, "{ viewer { person { name } } }", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body == {
        "errors": [
            {"message": "Authentication is required.", "extensions": {"code": "UNAUTHENTICATED"}}
        ]
    }
    counts = harness.mocks.counts()
    assert counts["EHR"] == counts["NATIONAL"] == 0
    assert sum(v for k, v in counts.items() if k.startswith("MUNICIPAL")) == 0
