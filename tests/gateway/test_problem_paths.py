"""`format_problems` keeps a partial failure only where its field is in the answer."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.responses import format_problems, in_answer
from resolvers.core.context import Problem
from sources.errors import UpstreamTimeout, UpstreamUnavailable

DATA: dict[str, Any] = {
    "viewer": {
        "person": {"medications": [{"id": "m1"}], "vaccinations": None},
        "representations": None,
    },
    "person": None,
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (("viewer", "person", "medications"), True),
        (("viewer", "person", "medications", 0, "id"), True),
        (("viewer", "person", "vaccinations"), True),  # null, but there
        (("viewer", "representations"), True),
        (("viewer", "representations", 0, "person", "medications"), False),  # list nulled
        (("person", "appointments"), False),  # object nulled
        (("viewer", "person", "medications", 1), False),
        (("viewer", "person", "medications", -1), False),
        (("viewer", "person", "appointments"), False),  # never asked
        (("viewer", "person", "medications", "0"), False),  # a key is no index
        (("viewer", 0), False),
        ((), False),
    ],
)
def test_in_answer(path: tuple[str | int, ...], found: bool) -> None:
    assert in_answer(DATA, path) is found


def test_no_answer_has_no_fields() -> None:
    assert not in_answer(None, ("viewer", "person"))


def test_problems_keep_their_order_and_format_and_lose_those_outside_the_answer() -> None:
    problems = [
        Problem(UpstreamUnavailable("EHR", "read"), ("viewer", "person", "medications")),
        Problem(UpstreamUnavailable("NATIONAL", "read"), ("viewer", "representations", 0)),
        Problem(UpstreamTimeout("NATIONAL", "read"), ("viewer", "person", "vaccinations")),
    ]
    assert format_problems(problems, DATA) == [
        {
            "message": "Data from the health record (EHR) is missing: it could not be reached.",
            "path": ["viewer", "person", "medications"],
            "extensions": {"code": "UPSTREAM_UNAVAILABLE", "source": "EHR"},
        },
        {
            "message": "Data from the national portal is missing: it did not answer in time.",
            "path": ["viewer", "person", "vaccinations"],
            "extensions": {"code": "UPSTREAM_TIMEOUT", "source": "NATIONAL"},
        },
    ]
