"""`node(id:)`: any global id fetched again, under the same authorization."""

from __future__ import annotations

from typing import Any

from gateway.ids import encode
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

NODE = """
query($id: ID!) {
  node(id: $id) { id ... on Person { basis name } }
}
"""


async def node(harness: Harness, viewer: str, global_id: str) -> dict[str, Any]:
    response = await harness.query(viewer, NODE, {"id": global_id})
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_a_person_id_is_a_node(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    body = await node(harness, "kari", emil)
    assert "errors" not in body, body
    assert body["data"]["node"]["id"] == emil
    assert body["data"]["node"]["basis"] == "PARENT"
    assert body["data"]["node"]["name"]


async def test_someone_out_of_reach_is_forbidden(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    body = await node(harness, "nils", emil)
    assert body["data"]["node"] is None
    assert codes(body) == ["FORBIDDEN"]


async def test_garbage_is_a_bad_user_input(harness: Harness) -> None:
    for bad in (
        "nonsense!",
        encode("Nothing", "ehr", "k.x"),
        encode("Appointment", "ehr", "nodot"),
    ):
        body = await node(harness, "kari", bad)
        assert body["data"]["node"] is None
        assert codes(body) == ["BAD_USER_INPUT"], bad
