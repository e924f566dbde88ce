"""What the limits remember about a refused operation: its verdict, never the request."""

from __future__ import annotations

import gc
import types
from typing import Any

from tests.e2e.conftest import Harness

COSTLY_WITH_A_NOTE = (
    "query($note: String) { viewer { representations { person { appointments(first: 100) "
    "{ edges { node { practitioner { name } location { name } source { name } } } } } } } }"
)
MARKER = "Kari Nordmann 13097248022 kept-by-a-verdict"


def reachable(root: object, depth: int = 10) -> list[Any]:
    """What `root` keeps alive, `depth` references deep (not through modules or functions,
    which lead to everything, this test's own constants included)."""
    seen: dict[int, Any] = {id(root): root}
    frontier = [root]
    for _ in range(depth):
        following = []
        for item in frontier:
            for referent in gc.get_referents(item):
                if isinstance(referent, types.ModuleType | types.FunctionType):
                    continue
                if id(referent) not in seen:
                    seen[id(referent)] = referent
                    following.append(referent)
        frontier = following
    return list(seen.values())


async def test_a_remembered_refusal_keeps_nothing_of_the_request(harness: Harness) -> None:
    """The verdict is cached so the next identical request is refused cheaply; an
    exception kept as it was raised would keep its frames alive: the query, the variables,
    the caller (with their national id), far past the request and beyond the cache's bound."""
    for _ in range(2):  # measured, then answered from the cache
        response = await harness.query("kari", COSTLY_WITH_A_NOTE, {"note": MARKER})
        assert response.json()["errors"][0]["extensions"]["limit"] == "cost"
    kept = reachable(harness.app_services.schema.documents)
    assert not [item for item in kept if isinstance(item, str) and MARKER in item]
